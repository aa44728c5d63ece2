package configdrive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Label is the volume label nova gives every config drive. Matching is
// case-insensitive: old mkfs.vfat upper-cased it to CONFIG-2.
const Label = "config-2"

// Filesystem types ProbeLabel reports.
const (
	FSTypeISO9660 = "iso9660"
	FSTypeFAT12   = "fat12"
	FSTypeFAT16   = "fat16"
	FSTypeFAT32   = "fat32"
)

// ErrUnknownFilesystem is returned by ProbeLabel when the medium is neither
// ISO 9660 nor FAT.
var ErrUnknownFilesystem = errors.New("neither an ISO 9660 nor a FAT filesystem")

// IsConfigDriveLabel reports whether label is config-2 in any case.
func IsConfigDriveLabel(label string) bool { return strings.EqualFold(label, Label) }

// ProbeLabel reads the volume label and filesystem type of an ISO 9660 or
// FAT12/16/32 filesystem the way blkid does, without udev or a mount.
// fstype is one of the FSType constants. The label has its padding removed.
func ProbeLabel(r io.ReaderAt) (label, fstype string, err error) {
	v, err := probe(r, -1)
	if err != nil {
		return "", "", err
	}
	return v.label, v.fstype, nil
}

// volume is what the probe learned; the geometry lets Open refuse images
// whose structures point past their end before go-diskfs allocates for them.
type volume struct {
	label, fstype string
	blockSize     int64
	fat           *fatBPB  // nil for ISO 9660
	isoRoots      [][]byte // root directory records of the primary and Joliet trees
}

// probe tries ISO 9660 first (it leaves the first 32 KiB free, so a FAT boot
// sector cannot be mistaken for it), then FAT. size < 0 means unknown.
func probe(r io.ReaderAt, size int64) (volume, error) {
	v, isISO, err := probeISO(r, size)
	if isISO {
		return v, err
	}
	v, isFAT, err := probeFAT(r, size)
	if isFAT {
		return v, err
	}
	return volume{}, ErrUnknownFilesystem
}

const (
	isoSystemArea        = 0x8000 // 16 sectors of 2048 bytes before the first volume descriptor
	isoDescSize          = 2048
	isoMaxDescs          = 64 // a real image has a handful; bounds the scan on garbage
	isoTypePrimary       = 1
	isoTypeSupplementary = 2 // Joliet
	isoTypeSetEnd        = 255
	isoRootRecordOff     = 156
	isoMinRecordLen      = 34
	isoVolumeIDOff       = 40 // 0x8028 for the first descriptor
	isoVolumeIDLen       = 32
	isoBlockSizeOff      = 128
	isoPathSizeOff       = 132
	isoPathLocOff        = 140
)

// probeISO reports isISO once "CD001" is seen; err then says what is broken.
// It reads every descriptor up to the set terminator, as go-diskfs will,
// checking that each path table lies on the medium.
func probeISO(r io.ReaderAt, size int64) (v volume, isISO bool, err error) {
	desc := make([]byte, isoDescSize)
	var primary *volume
	for i := 0; i < isoMaxDescs; i++ {
		off := int64(isoSystemArea + i*isoDescSize)
		if n, err := r.ReadAt(desc, off); err != nil {
			if i == 0 && (n < 6 || string(desc[1:6]) != "CD001") {
				return volume{}, false, nil
			}
			return volume{}, true, fmt.Errorf("iso9660: volume descriptor %d: truncated medium: %w", i, err)
		}
		if string(desc[1:6]) != "CD001" {
			if i == 0 {
				return volume{}, false, nil
			}
			return volume{}, true, fmt.Errorf("iso9660: volume descriptor %d: missing CD001 signature", i)
		}
		switch desc[0] {
		case isoTypeSetEnd:
			if primary == nil {
				return volume{}, true, errors.New("iso9660: no primary volume descriptor")
			}
			return *primary, true, nil
		case isoTypePrimary, isoTypeSupplementary:
			d, err := isoDescriptor(desc, size)
			if err != nil {
				return volume{}, true, fmt.Errorf("%w (volume descriptor %d)", err, i)
			}
			if desc[0] == isoTypePrimary && primary == nil {
				primary = &d
			} else if primary != nil {
				primary.isoRoots = append(primary.isoRoots, d.isoRoots...)
			}
		}
	}
	return volume{}, true, errors.New("iso9660: no volume descriptor set terminator")
}

// isoDescriptor reads a primary or supplementary (Joliet) descriptor.
func isoDescriptor(desc []byte, size int64) (volume, error) {
	blockSize := int64(binary.LittleEndian.Uint16(desc[isoBlockSizeOff:]))
	switch blockSize {
	case 2048, 4096, 8192:
	default:
		return volume{}, fmt.Errorf("iso9660: logical block size %d: want 2048, 4096 or 8192", blockSize)
	}
	pathSize := int64(binary.LittleEndian.Uint32(desc[isoPathSizeOff:]))
	pathEnd := int64(binary.LittleEndian.Uint32(desc[isoPathLocOff:]))*blockSize + pathSize
	if size >= 0 && pathEnd > size {
		return volume{}, fmt.Errorf("iso9660: path table ends at byte %d, past the end of the %d-byte medium", pathEnd, size)
	}
	label := trimPadding(desc[isoVolumeIDOff : isoVolumeIDOff+isoVolumeIDLen])
	root := bytes.Clone(desc[isoRootRecordOff : isoRootRecordOff+isoMinRecordLen])
	return volume{label: label, fstype: FSTypeISO9660, blockSize: blockSize, isoRoots: [][]byte{root}}, nil
}

// trimPadding removes the space or NUL padding of fixed-width label fields.
func trimPadding(b []byte) string {
	return string(bytes.TrimRight(b, " \x00"))
}
