package xenstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxTxAttempts bounds Transaction's retries on conflict.
const maxTxAttempts = 16

// Tx is an open transaction: its operations see a private view of the
// store that becomes visible to others only when Transaction commits.
type Tx struct {
	s scope
}

// Read is Client.Read inside the transaction.
func (tx *Tx) Read(ctx context.Context, path string) ([]byte, error) { return tx.s.read(ctx, path) }

// Write is Client.Write inside the transaction.
func (tx *Tx) Write(ctx context.Context, path string, value []byte) error {
	return tx.s.write(ctx, path, value)
}

// Remove is Client.Remove inside the transaction.
func (tx *Tx) Remove(ctx context.Context, path string) error { return tx.s.remove(ctx, path) }

// Mkdir is Client.Mkdir inside the transaction.
func (tx *Tx) Mkdir(ctx context.Context, path string) error { return tx.s.mkdir(ctx, path) }

// List is Client.List inside the transaction.
func (tx *Tx) List(ctx context.Context, path string) ([]string, error) { return tx.s.list(ctx, path) }

// Transaction runs fn in a transaction and commits it. When the commit
// conflicts with another writer (EAGAIN), or fn returns an error wrapping
// ErrAgain or ErrDisconnected (the transaction died with its connection),
// it runs fn again in a new transaction, up to maxTxAttempts times. Any
// other error from fn aborts the transaction and is returned as is. A
// commit cut off by a disconnect is not retried, since it may have applied.
func (c *Client) Transaction(ctx context.Context, fn func(tx *Tx) error) error {
	var lastErr error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		if attempt > 0 {
			// A short, growing pause lets the competing writer finish.
			select {
			case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
			case <-ctx.Done():
				return fmt.Errorf("xenstore: transaction: %w (last attempt: %v)", ctx.Err(), lastErr)
			}
		}
		tx, err := c.begin(ctx)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			tx.end(ctx, false)
			if errors.Is(err, ErrAgain) || errors.Is(err, ErrDisconnected) {
				lastErr = err
				continue
			}
			return err
		}
		err = tx.end(ctx, true)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrAgain) {
			return err
		}
		lastErr = err
	}
	return fmt.Errorf("xenstore: transaction still conflicting after %d attempts: %w", maxTxAttempts, lastErr)
}

func (c *Client) begin(ctx context.Context) (*Tx, error) {
	b, gen, err := c.do(ctx, request{typ: TypeTransactionStart, op: "transaction start", payload: []byte{0}})
	if err != nil {
		return nil, err
	}
	id, perr := strconv.ParseUint(strings.TrimRight(string(b), "\x00"), 10, 32)
	if perr != nil || id == 0 {
		return nil, fmt.Errorf("xenstore: transaction start: reply %q is not a transaction id", b)
	}
	return &Tx{s: scope{c: c, txID: uint32(id), txGen: gen}}, nil
}

// end commits or aborts. An abort still reaches the daemon when ctx has
// ended, so a cancelled caller does not leave the transaction open.
func (tx *Tx) end(ctx context.Context, commit bool) error {
	arg, op := []byte("F\x00"), "transaction abort"
	if commit {
		arg, op = []byte("T\x00"), "transaction commit"
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
	}
	_, err := tx.s.call(ctx, TypeTransactionEnd, op, "", arg)
	return err
}
