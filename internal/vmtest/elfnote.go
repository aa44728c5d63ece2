package vmtest

import (
	"bytes"
	"encoding/binary"
	"errors"
)

var errBadNote = errors.New("truncated ELF note")

// elfNote is one entry of an ELF PT_NOTE segment.
type elfNote struct {
	Name string
	Type uint32
	Desc []byte
}

// parseNotes splits a PT_NOTE segment into notes (4-byte aligned name and
// descriptor, as in ELF64 kernel images). It stops with errBadNote on a
// truncated entry rather than reading past the data.
func parseNotes(data []byte, order binary.ByteOrder) ([]elfNote, error) {
	var notes []elfNote
	for len(data) > 0 {
		if len(data) < 12 {
			return notes, errBadNote
		}
		namesz := uint64(order.Uint32(data[0:]))
		descsz := uint64(order.Uint32(data[4:]))
		typ := order.Uint32(data[8:])
		data = data[12:]
		nameEnd, descEnd := align4(namesz), align4(namesz)+descsz
		if nameEnd > uint64(len(data)) || descEnd > uint64(len(data)) {
			return notes, errBadNote
		}
		name := bytes.TrimRight(data[:namesz], "\x00")
		notes = append(notes, elfNote{Name: string(name), Type: typ, Desc: data[nameEnd:descEnd]})
		next := align4(descEnd)
		if next > uint64(len(data)) {
			next = uint64(len(data))
		}
		data = data[next:]
	}
	return notes, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// hasNote reports whether the segment holds a note with this name and type;
// notes before a truncated entry still count.
func hasNote(data []byte, order binary.ByteOrder, name string, typ uint32) bool {
	notes, _ := parseNotes(data, order)
	for _, n := range notes {
		if n.Name == name && n.Type == typ {
			return true
		}
	}
	return false
}
