package configdrive

import (
	"encoding/binary"
	"fmt"
	"io"
)

// checkFATChains refuses a FAT whose cluster chains loop. go-diskfs v1.9.4
// follows a chain until it sees an end marker, so a loop (one flipped bit
// on a damaged drive) would hang the boot while its cluster list grows
// without bound.
func (b fatBPB) checkFATChains(r io.ReaderAt) error {
	fat := make([]byte, b.sectorsPerFAT*b.bytesPerSector)
	if _, err := r.ReadAt(fat, b.reservedSectors*b.bytesPerSector); err != nil {
		return fmt.Errorf("fat: reading the FAT: %w", err)
	}
	next, entries := b.fatReader(fat)
	// The BPB's cluster count may be a lie; the FAT cannot hold more.
	maxCluster := uint32(min((b.totalSectors-b.dataStart())/b.sectorsPerCluster+1, entries-1))
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, maxCluster+1)
	var path []uint32
	for start := uint32(2); start <= maxCluster; start++ {
		path = path[:0]
		for c := start; c >= 2 && c <= maxCluster && state[c] != done; c = next(c) {
			if state[c] == onPath {
				return fmt.Errorf("fat: the cluster chain through cluster %d loops", c)
			}
			state[c] = onPath
			path = append(path, c)
		}
		for _, c := range path {
			state[c] = done
		}
	}
	return nil
}

// fatReader returns the FAT entry of a cluster (entries past the table
// read as 0, free, which ends a chain) and how many entries the table has.
func (b fatBPB) fatReader(fat []byte) (next func(uint32) uint32, entries int64) {
	fstype, _ := b.fsType()
	switch fstype {
	case FSTypeFAT12:
		entries = int64(len(fat)) * 2 / 3
	case FSTypeFAT16:
		entries = int64(len(fat)) / 2
	default:
		entries = int64(len(fat)) / 4
	}
	return func(c uint32) uint32 {
		switch fstype {
		case FSTypeFAT12:
			off := int(c) * 3 / 2
			if off+2 > len(fat) {
				return 0
			}
			v := uint32(binary.LittleEndian.Uint16(fat[off:]))
			if c%2 == 1 {
				return v >> 4
			}
			return v & 0xFFF
		case FSTypeFAT16:
			if int(c)*2+2 > len(fat) {
				return 0
			}
			return uint32(binary.LittleEndian.Uint16(fat[c*2:]))
		default:
			if int(c)*4+4 > len(fat) {
				return 0
			}
			return binary.LittleEndian.Uint32(fat[c*4:]) & 0x0FFFFFFF
		}
	}, entries
}
