package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"guestbridge/xenstore"
)

func runSend(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("send")
	sock := fs.String("xenstore", "", "XenStore socket or device (default: $XENSTORED_PATH, the socket, then /dev/xen/xenbus)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the guest's reply (Nova waits 30 s)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return usagef("usage: guestbridge send [--xenstore SOCKET] [--timeout D] NAME [VALUE]")
	}
	req, err := agentRequest(fs.Arg(0), fs.Arg(1))
	if err != nil {
		return err
	}
	c, err := xenstore.Dial(ctx, *sock)
	if err != nil {
		return err
	}
	defer c.Close()
	id := newUUID()
	reply, err := sendRequest(ctx, c, id, req, *timeout)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", reply)
	return err
}

// agentRequest builds the request as Nova's dom0 plugin does: {"name", "value"}.
// A VALUE that is a JSON object is sent as one (file_inject, kmsactivate);
// anything else as a string.
func agentRequest(name, value string) ([]byte, error) {
	if name == "" {
		return nil, usagef("send: empty command name")
	}
	var v any = value
	var obj map[string]any
	if len(value) > 0 && value[0] == '{' && json.Unmarshal([]byte(value), &obj) == nil {
		v = obj
	}
	return json.Marshal(map[string]any{"name": name, "value": v})
}

// sendRequest writes data/host/<id>, waits for data/guest/<id> (watching, so
// the reply is seen at once) and, like the host, removes the request on timeout.
func sendRequest(ctx context.Context, c *xenstore.Client, id string, req []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	replyPath := "data/guest/" + id
	events, err := c.Watch(ctx, replyPath)
	if err != nil {
		return nil, err
	}
	if err := c.Write(ctx, "data/host/"+id, req); err != nil {
		return nil, err
	}
	poll := time.NewTicker(500 * time.Millisecond) // safety net, as Nova polls
	defer poll.Stop()
	for {
		if reply, err := c.Read(ctx, replyPath); err == nil && len(reply) > 0 {
			return reply, nil
		}
		select {
		case <-events:
		case <-poll.C:
		case <-ctx.Done():
			rmCtx, rmCancel := context.WithTimeout(context.Background(), 2*time.Second)
			c.Remove(rmCtx, "data/host/"+id)
			rmCancel()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("no reply from the agent within %s (request %s removed)", timeout, id)
			}
			return nil, ctx.Err()
		}
	}
}

// newUUID returns a random (version 4) UUID, as Nova uses for request ids.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
