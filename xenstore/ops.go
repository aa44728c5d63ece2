package xenstore

import (
	"context"
	"fmt"
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
	if err != nil {
		return nil, err
	}
	return splitNUL(b), nil
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

// List returns the names of path's children (not full paths).
func (c *Client) List(ctx context.Context, path string) ([]string, error) {
	return scope{c: c}.list(ctx, path)
}
