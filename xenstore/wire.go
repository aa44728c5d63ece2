// Package xenstore is a XenStore client speaking the xs_wire protocol over
// the xenstored unix socket (dom0, tests) or the guest's xenbus device.
package xenstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MsgType is the type field of a message header (xs_wire.h enum xsd_sockmsg_type).
type MsgType uint32

// Message types. Replies carry the request's type, or TypeError.
const (
	TypeControl            MsgType = 0
	TypeDirectory          MsgType = 1
	TypeRead               MsgType = 2
	TypeGetPerms           MsgType = 3
	TypeWatch              MsgType = 4
	TypeUnwatch            MsgType = 5
	TypeTransactionStart   MsgType = 6
	TypeTransactionEnd     MsgType = 7
	TypeIntroduce          MsgType = 8
	TypeRelease            MsgType = 9
	TypeGetDomainPath      MsgType = 10
	TypeWrite              MsgType = 11
	TypeMkdir              MsgType = 12
	TypeRm                 MsgType = 13
	TypeSetPerms           MsgType = 14
	TypeWatchEvent         MsgType = 15
	TypeError              MsgType = 16
	TypeIsDomainIntroduced MsgType = 17
	TypeResume             MsgType = 18
	TypeSetTarget          MsgType = 19
	TypeResetWatches       MsgType = 21
	TypeDirectoryPart      MsgType = 22
)

var typeNames = map[MsgType]string{
	TypeControl: "CONTROL", TypeDirectory: "DIRECTORY", TypeRead: "READ",
	TypeGetPerms: "GET_PERMS", TypeWatch: "WATCH", TypeUnwatch: "UNWATCH",
	TypeTransactionStart: "TRANSACTION_START", TypeTransactionEnd: "TRANSACTION_END",
	TypeIntroduce: "INTRODUCE", TypeRelease: "RELEASE", TypeGetDomainPath: "GET_DOMAIN_PATH",
	TypeWrite: "WRITE", TypeMkdir: "MKDIR", TypeRm: "RM", TypeSetPerms: "SET_PERMS",
	TypeWatchEvent: "WATCH_EVENT", TypeError: "ERROR",
	TypeIsDomainIntroduced: "IS_DOMAIN_INTRODUCED", TypeResume: "RESUME",
	TypeSetTarget: "SET_TARGET", TypeResetWatches: "RESET_WATCHES",
	TypeDirectoryPart: "DIRECTORY_PART",
}

func (t MsgType) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("TYPE_%d", uint32(t))
}

const (
	// HeaderSize is the size of struct xsd_sockmsg.
	HeaderSize = 16
	// MaxPayload is XENSTORE_PAYLOAD_MAX, the largest payload a daemon accepts.
	MaxPayload = 4096
	// MaxClientPayload is the largest payload this client sends: the guest
	// kernel buffers header and payload together in 4096 bytes, so through
	// /dev/xen/xenbus only 4080 payload bytes fit. Enforced on every transport
	// so code tested over the socket also works in a guest.
	MaxClientPayload = MaxPayload - HeaderSize
)

// ErrIncomplete is returned by Decode when the buffer holds only part of a message.
var ErrIncomplete = errors.New("xenstore: incomplete message")

// Header is the fixed part of every message. The fields are host-endian on
// the wire; every Xen platform Go targets is little-endian.
type Header struct {
	Type  MsgType
	ReqID uint32
	TxID  uint32
	Len   uint32
}

// Packet is one whole message.
type Packet struct {
	Type    MsgType
	ReqID   uint32
	TxID    uint32
	Payload []byte
}

// DecodeHeader parses the first HeaderSize bytes of b. It does not check Len,
// so a server can answer an oversized request with E2BIG instead of failing.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrIncomplete
	}
	return Header{
		Type:  MsgType(binary.LittleEndian.Uint32(b[0:])),
		ReqID: binary.LittleEndian.Uint32(b[4:]),
		TxID:  binary.LittleEndian.Uint32(b[8:]),
		Len:   binary.LittleEndian.Uint32(b[12:]),
	}, nil
}

func checkLen(n uint64) error {
	if n > MaxPayload {
		return fmt.Errorf("%w: message declares %d payload bytes, the protocol allows at most %d",
			ErrPayloadTooBig, n, MaxPayload)
	}
	return nil
}

// Encode returns the message as one buffer, so it can be sent with one write().
func Encode(p Packet) ([]byte, error) {
	if err := checkLen(uint64(len(p.Payload))); err != nil {
		return nil, err
	}
	b := make([]byte, HeaderSize+len(p.Payload))
	binary.LittleEndian.PutUint32(b[0:], uint32(p.Type))
	binary.LittleEndian.PutUint32(b[4:], p.ReqID)
	binary.LittleEndian.PutUint32(b[8:], p.TxID)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(p.Payload)))
	copy(b[HeaderSize:], p.Payload)
	return b, nil
}

// Decode parses one message from the start of b and returns it with the
// number of bytes consumed. It returns ErrIncomplete when b is too short and
// an error wrapping ErrPayloadTooBig when the header declares more than
// MaxPayload bytes. The payload is copied, so b may be reused.
func Decode(b []byte) (Packet, int, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return Packet{}, 0, err
	}
	if err := checkLen(uint64(h.Len)); err != nil {
		return Packet{}, 0, err
	}
	end := HeaderSize + int(h.Len)
	if len(b) < end {
		return Packet{}, 0, ErrIncomplete
	}
	return Packet{
		Type:    h.Type,
		ReqID:   h.ReqID,
		TxID:    h.TxID,
		Payload: append([]byte(nil), b[HeaderSize:end]...),
	}, end, nil
}

// MaxReplyPayload is the largest reply the client accepts. oxenstored does
// not hold itself to MaxPayload on its unix socket: it answers XS_DIRECTORY
// of a large directory with one reply of any size (37 KB for 1000 Nova
// request ids) where the C daemon says E2BIG. Such a reply is well framed,
// so the client takes it rather than dropping the connection; the bound
// only keeps a corrupt header from costing unbounded memory.
const MaxReplyPayload = 1 << 20

// ReadPacket reads exactly one message of at most MaxPayload bytes from a stream.
func ReadPacket(r io.Reader) (Packet, error) { return readPacket(r, MaxPayload) }

// readReply reads one message from the daemon, allowing MaxReplyPayload.
func readReply(r io.Reader) (Packet, error) { return readPacket(r, MaxReplyPayload) }

func readPacket(r io.Reader, max uint64) (Packet, error) {
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return Packet{}, err
	}
	h, _ := DecodeHeader(hb[:])
	if n := uint64(h.Len); n > max {
		return Packet{}, fmt.Errorf("%w: message declares %d payload bytes, at most %d accepted",
			ErrPayloadTooBig, n, max)
	}
	p := Packet{Type: h.Type, ReqID: h.ReqID, TxID: h.TxID, Payload: make([]byte, h.Len)}
	if _, err := io.ReadFull(r, p.Payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Packet{}, err
	}
	return p, nil
}
