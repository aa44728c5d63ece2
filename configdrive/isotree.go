package configdrive

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Bounds of the ISO 9660 directory check. A config drive has a dozen
// directories of one block each.
const (
	isoMaxDirSize  = 16 << 20
	isoMaxDirs     = 4096
	isoMaxDirDepth = 64
)

// checkISOTree walks every directory of the trees rooted at the given root
// records and refuses extents that lie past the medium or claim absurd
// sizes. go-diskfs v1.9.4 allocates a directory's claimed size before
// reading it, so one corrupt 32-bit length would cost up to 4 GiB.
func checkISOTree(r io.ReaderAt, size, blockSize int64, roots [][]byte) error {
	type dir struct {
		loc, size uint32
		depth     int
	}
	var queue []dir
	for _, root := range roots {
		loc, sz, _ := isoRecordExtent(root)
		queue = append(queue, dir{loc, sz, 0})
	}
	seen := map[uint32]bool{}
	budget := size + 1<<20 // directory bytes read in all; a sane tree reads each block once
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d.loc] {
			continue
		}
		seen[d.loc] = true
		if len(seen) > isoMaxDirs || d.depth > isoMaxDirDepth {
			return fmt.Errorf("iso9660: more than %d directories or deeper than %d levels", isoMaxDirs, isoMaxDirDepth)
		}
		if err := checkISOExtent(d.loc, d.size, size, blockSize); err != nil {
			return err
		}
		if budget -= int64(d.size); budget < 0 {
			return fmt.Errorf("iso9660: directories claim more bytes than the %d-byte medium holds", size)
		}
		buf := make([]byte, d.size)
		if _, err := r.ReadAt(buf, int64(d.loc)*blockSize); err != nil {
			return fmt.Errorf("iso9660: directory at block %d: %w", d.loc, err)
		}
		for off := 0; off < len(buf); {
			n := int(buf[off])
			if n == 0 { // records do not cross blocks: skip to the next one
				off = (off/int(blockSize) + 1) * int(blockSize)
				continue
			}
			if n < isoMinRecordLen || off+n > len(buf) || isoMinRecordLen-1+int(buf[off+32]) > n {
				return fmt.Errorf("iso9660: directory at block %d: malformed record at byte %d", d.loc, off)
			}
			rec := buf[off : off+n]
			loc, sz, isDir := isoRecordExtent(rec)
			name := rec[33 : 33+int(rec[32])]
			switch {
			case len(name) == 1 && name[0] == 0: // "." — go-diskfs takes the size from here
				if err := checkISOExtent(loc, sz, size, blockSize); err != nil {
					return err
				}
			case len(name) == 1 && name[0] == 1: // ".."
			case isDir:
				queue = append(queue, dir{loc, sz, d.depth + 1})
			}
			off += n
		}
	}
	return nil
}

// isoRecordExtent reads a directory record's extent and directory flag.
func isoRecordExtent(rec []byte) (loc, size uint32, isDir bool) {
	return binary.LittleEndian.Uint32(rec[2:]), binary.LittleEndian.Uint32(rec[10:]), rec[25]&0x02 != 0
}

func checkISOExtent(loc, dirSize uint32, size, blockSize int64) error {
	end := int64(loc)*blockSize + int64(dirSize)
	if dirSize > isoMaxDirSize || end > size {
		return fmt.Errorf("iso9660: directory at block %d claims %d bytes, past the end of the %d-byte medium or over %d", loc, dirSize, size, isoMaxDirSize)
	}
	return nil
}
