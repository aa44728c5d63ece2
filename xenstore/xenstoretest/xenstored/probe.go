package xenstored

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

const (
	wireRead  = 2  // XS_READ
	wireError = 16 // XS_ERROR
)

// probe sends one XS_READ of "/" over the socket and checks that a reply
// comes back. It speaks the wire format directly so the harness does not
// depend on the client package it is used to test.
func probe(socket string) error {
	conn, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	payload := []byte("/\x00")
	msg := make([]byte, 16+len(payload))
	binary.LittleEndian.PutUint32(msg[0:], wireRead)
	binary.LittleEndian.PutUint32(msg[4:], 0x6762) // req_id, echoed back
	binary.LittleEndian.PutUint32(msg[12:], uint32(len(payload)))
	copy(msg[16:], payload)
	if _, err := conn.Write(msg); err != nil {
		return err
	}
	var hdr [16]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return err
	}
	typ := binary.LittleEndian.Uint32(hdr[0:])
	if typ != wireRead && typ != wireError {
		return fmt.Errorf("unexpected reply type %d to READ /", typ)
	}
	if id := binary.LittleEndian.Uint32(hdr[4:]); id != 0x6762 {
		return fmt.Errorf("reply req_id %#x, want %#x", id, 0x6762)
	}
	return nil
}
