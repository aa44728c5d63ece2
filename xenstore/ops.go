package xenstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// scope runs operations either directly (txID 0) or inside a transaction.
type scope struct {
	c     *Client
	txID  uint32
	txGen uint64
}

func (s scope) call(ctx context.Context, typ MsgType, op, path string, payload []byte) ([]byte, error) {
	if strings.IndexByte(path, 0) >= 0 {
		return nil, fmt.Errorf("xenstore: %s %q: %w: %w", op, path, errNUL, syscall.EINVAL)
	}
	b, _, err := s.c.do(ctx, request{typ: typ, op: op, path: path, txID: s.txID, txGen: s.txGen, payload: payload})
	return b, err
}

func pathArg(path string) []byte { return append([]byte(path), 0) }

func (s scope) read(ctx context.Context, path string) ([]byte, error) {
	return s.call(ctx, TypeRead, "read", path, pathArg(path))
}

func (s scope) write(ctx context.Context, path string, value []byte) error {
	payload := append(pathArg(path), value...) // no NUL after the value
	_, err := s.call(ctx, TypeWrite, "write", path, payload)
	return err
}

func (s scope) remove(ctx context.Context, path string) error {
	_, err := s.call(ctx, TypeRm, "remove", path, pathArg(path))
	return err
}

func (s scope) mkdir(ctx context.Context, path string) error {
	_, err := s.call(ctx, TypeMkdir, "mkdir", path, pathArg(path))
	return err
}

func (s scope) list(ctx context.Context, path string) ([]string, error) {
	b, err := s.call(ctx, TypeDirectory, "list", path, pathArg(path))
	if errors.Is(err, ErrPayloadTooBig) {
		// The listing does not fit in one reply (about 110 Nova request
		// ids): fetch it in parts, as libxenstore's xs_directory does.
		return s.listParts(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	return splitNUL(b), nil
}

// maxPartRestarts bounds how often listParts starts over because the
// directory changed between parts; a busy directory still converges since
// each part is one round trip.
const maxPartRestarts = 100

// listParts lists path with XS_DIRECTORY_PART: each request carries the
// byte offset into the NUL-separated list of children; each reply starts
// with the directory's generation count, then up to a payload's worth of
// names, and the last part ends with an empty name (a double NUL). When the
// generation differs between parts the directory changed, so it restarts.
// A daemon without XS_DIRECTORY_PART answers ENOSYS (or EINVAL); then the
// error wraps ErrPayloadTooBig and ErrDirectoryPartUnsupported.
func (s scope) listParts(ctx context.Context, path string) ([]string, error) {
	var (
		names    []byte
		gen      string
		restarts int
	)
	for off := 0; ; {
		payload := append(pathArg(path), strconv.Itoa(off)...)
		payload = append(payload, 0)
		b, err := s.call(ctx, TypeDirectoryPart, "list (in parts)", path, payload)
		if errors.Is(err, syscall.ENOSYS) || (off == 0 && errors.Is(err, syscall.EINVAL)) {
			return nil, fmt.Errorf("xenstore: list %s: the directory is larger than one reply "+
				"and the daemon does not support XS_DIRECTORY_PART: %w: %w",
				path, ErrDirectoryPartUnsupported, ErrPayloadTooBig)
		}
		if err != nil {
			return nil, err
		}
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, fmt.Errorf("xenstore: list %s: malformed XS_DIRECTORY_PART reply (no generation): %w",
				path, syscall.EIO)
		}
		g, rest := string(b[:i]), b[i+1:]
		if off == 0 {
			gen = g
		} else if g != gen {
			if restarts++; restarts > maxPartRestarts {
				return nil, fmt.Errorf("xenstore: list %s: directory kept changing while listed in parts: %w",
					path, ErrAgain)
			}
			names, off = names[:0], 0
			continue
		}
		if len(rest) == 0 && off == 0 {
			return []string{}, nil // no children at all
		}
		names = append(names, rest...)
		off += len(rest)
		if len(rest) == 0 {
			// An empty part past offset 0: the daemon has nothing more;
			// treat it as the end rather than asking forever.
			break
		}
		if len(names) >= 2 && names[len(names)-1] == 0 && names[len(names)-2] == 0 {
			names = names[:len(names)-1] // drop the terminating empty name
			break
		}
		if len(names) == 1 && names[0] == 0 {
			return []string{}, nil
		}
	}
	return splitNUL(names), nil
}

// Read returns the value at path. A missing node gives an error wrapping
// fs.ErrNotExist; an intermediate node reads as empty.
func (c *Client) Read(ctx context.Context, path string) ([]byte, error) {
	return scope{c: c}.read(ctx, path)
}

// Write sets path to value, creating missing parents.
func (c *Client) Write(ctx context.Context, path string, value []byte) error {
	return scope{c: c}.write(ctx, path, value)
}

// Remove deletes path and everything below it.
func (c *Client) Remove(ctx context.Context, path string) error {
	return scope{c: c}.remove(ctx, path)
}

// Mkdir creates path (and missing parents) with an empty value.
func (c *Client) Mkdir(ctx context.Context, path string) error {
	return scope{c: c}.mkdir(ctx, path)
}

// ListInParts lists path with XS_DIRECTORY_PART only; List uses it when a
// directory is too large for one reply. Exported for tests and tools.
func (c *Client) ListInParts(ctx context.Context, path string) ([]string, error) {
	return scope{c: c}.listParts(ctx, path)
}

// List returns the names of path's children (not full paths). A directory
// too large for one reply is fetched with XS_DIRECTORY_PART.
func (c *Client) List(ctx context.Context, path string) ([]string, error) {
	return scope{c: c}.list(ctx, path)
}
