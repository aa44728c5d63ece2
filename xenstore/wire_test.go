package xenstore

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := Packet{Type: TypeWrite, ReqID: 0xdeadbeef, TxID: 7, Payload: []byte("data/x\x00value")}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []byte{11, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 7, 0, 0, 0, 12, 0, 0, 0}
	if !bytes.Equal(b[:HeaderSize], wantHeader) {
		t.Fatalf("header % x, want % x (little-endian type, req_id, tx_id, len)", b[:HeaderSize], wantHeader)
	}
	// Two messages back to back, as pipelined replies arrive.
	stream := append(append([]byte(nil), b...), b...)
	out, n, err := Decode(stream)
	if err != nil || n != len(b) {
		t.Fatalf("Decode = %d, %v", n, err)
	}
	if out.Type != in.Type || out.ReqID != in.ReqID || out.TxID != in.TxID || !bytes.Equal(out.Payload, in.Payload) {
		t.Fatalf("Decode = %+v, want %+v", out, in)
	}
	p, err := ReadPacket(bytes.NewReader(stream[n:]))
	if err != nil || !bytes.Equal(p.Payload, in.Payload) {
		t.Fatalf("ReadPacket = %+v, %v", p, err)
	}
}

func TestDecodeIncomplete(t *testing.T) {
	b, _ := Encode(Packet{Type: TypeRead, Payload: []byte("abc\x00")})
	for i := range len(b) {
		if _, _, err := Decode(b[:i]); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("Decode of %d/%d bytes: %v, want ErrIncomplete", i, len(b), err)
		}
	}
	if _, err := ReadPacket(bytes.NewReader(b[:len(b)-1])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadPacket of a truncated body: %v", err)
	}
}

func TestPayloadLimits(t *testing.T) {
	if _, err := Encode(Packet{Payload: make([]byte, MaxPayload)}); err != nil {
		t.Fatalf("Encode of exactly %d bytes: %v", MaxPayload, err)
	}
	if _, err := Encode(Packet{Payload: make([]byte, MaxPayload+1)}); !errors.Is(err, ErrPayloadTooBig) {
		t.Fatalf("Encode of %d bytes: %v", MaxPayload+1, err)
	}
	hdr := []byte{2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x10, 0, 0} // len 4097
	if _, _, err := Decode(hdr); !errors.Is(err, ErrPayloadTooBig) {
		t.Fatalf("Decode of a 4097-byte header: %v", err)
	}
	if _, err := ReadPacket(bytes.NewReader(hdr)); !errors.Is(err, ErrPayloadTooBig) {
		t.Fatalf("ReadPacket of a 4097-byte header: %v", err)
	}
	if MaxClientPayload != 4080 {
		t.Fatalf("MaxClientPayload = %d, the xenbus device allows 4080", MaxClientPayload)
	}
}

func TestMsgTypeString(t *testing.T) {
	if s := TypeWatchEvent.String(); s != "WATCH_EVENT" {
		t.Errorf("TypeWatchEvent = %s", s)
	}
	if s := MsgType(99).String(); s != "TYPE_99" {
		t.Errorf("MsgType(99) = %s", s)
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range []Packet{
		{Type: TypeRead, ReqID: 1, Payload: []byte("/a\x00")},
		{Type: TypeWatchEvent, Payload: []byte("/a/b\x00tok\x00")},
		{Type: TypeError, ReqID: 3, TxID: 2, Payload: []byte("ENOENT\x00")},
		{Type: TypeDirectory},
	} {
		b, _ := Encode(p)
		f.Add(b)
	}
	f.Add([]byte{2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := Decode(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v but consumed %d", err, n)
			}
			return
		}
		if n < HeaderSize || n > len(b) || len(p.Payload) > MaxPayload || n != HeaderSize+len(p.Payload) {
			t.Fatalf("n=%d len(b)=%d payload=%d", n, len(b), len(p.Payload))
		}
		// Whatever decodes re-encodes to the same bytes.
		again, err := Encode(p)
		if err != nil || !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encode mismatch: %v", err)
		}
		// ReadPacket agrees with Decode.
		q, err := ReadPacket(bytes.NewReader(b))
		if err != nil || q.Type != p.Type || !bytes.Equal(q.Payload, p.Payload) {
			t.Fatalf("ReadPacket disagrees: %+v, %v", q, err)
		}
	})
}
