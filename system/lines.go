package system

import (
	"bytes"
	"slices"
)

// Helpers for the line-oriented files this package edits in place
// (/etc/shadow, /etc/hosts, authorized_keys): they keep the user's bytes
// exactly, line endings included.

// cutEOL splits a line from its "\n" or "\r\n" ending.
func cutEOL(line []byte) (body, eol []byte) {
	if b, ok := bytes.CutSuffix(line, []byte("\r\n")); ok {
		return b, line[len(b):]
	}
	if b, ok := bytes.CutSuffix(line, []byte("\n")); ok {
		return b, line[len(b):]
	}
	return line, nil
}

// joinWithInsert joins lines with block inserted before lines[at]. A line
// just before the block that lacks a newline gets one. lines may share
// memory with the caller's input, which is never written to.
func joinWithInsert(lines [][]byte, at int, block []byte) []byte {
	out := make([][]byte, 0, len(lines)+1)
	out = append(out, lines[:at]...)
	if at > 0 && !bytes.HasSuffix(out[at-1], []byte("\n")) {
		out[at-1] = append(slices.Clip(out[at-1]), '\n')
	}
	out = append(out, block)
	out = append(out, lines[at:]...)
	return bytes.Join(out, nil)
}
