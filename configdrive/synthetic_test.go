package configdrive

import (
	"encoding/binary"
)

// Minimal media built byte by byte, so probe and Find tests need no tools.
// They carry only what blkid looks at, not a readable tree.

// syntheticISO has a primary volume descriptor labelled label and a set
// terminator.
func syntheticISO(label string) []byte {
	img := make([]byte, 0x8000+3*2048)
	pvd := img[0x8000:]
	pvd[0] = isoTypePrimary
	copy(pvd[1:6], "CD001")
	pvd[6] = 1
	copy(pvd[isoVolumeIDOff:isoVolumeIDOff+isoVolumeIDLen], padRight(label, isoVolumeIDLen, ' '))
	binary.LittleEndian.PutUint16(pvd[isoBlockSizeOff:], 2048)
	binary.LittleEndian.PutUint32(pvd[isoPathSizeOff:], 10)
	binary.LittleEndian.PutUint32(pvd[isoPathLocOff:], 18)
	term := img[0x8000+2048:]
	term[0] = isoTypeSetEnd
	copy(term[1:6], "CD001")
	return img
}

// syntheticFAT12 is a 64-sector FAT12 volume with bootLabel in the boot
// sector and, unless rootLabel is "", a volume-label entry in the root
// directory (mkfs.fat -n writes both).
func syntheticFAT12(bootLabel, rootLabel string) []byte {
	img := make([]byte, 64*512)
	bs := img[:512]
	copy(bs, []byte{0xEB, 0x3C, 0x90})
	copy(bs[3:11], "mkfs.fat")
	binary.LittleEndian.PutUint16(bs[0x0B:], 512) // bytes per sector
	bs[0x0D] = 1                                  // sectors per cluster
	binary.LittleEndian.PutUint16(bs[0x0E:], 1)   // reserved sectors
	bs[0x10] = 2                                  // FATs
	binary.LittleEndian.PutUint16(bs[0x11:], 16)  // root entries: one sector
	binary.LittleEndian.PutUint16(bs[0x13:], 64)  // total sectors
	bs[0x15] = 0xF8
	binary.LittleEndian.PutUint16(bs[0x16:], 1) // sectors per FAT
	bs[0x26] = fatExtBootSig
	copy(bs[0x2B:0x2B+11], padRight(bootLabel, 11, ' '))
	copy(bs[0x36:0x3E], "FAT12   ")
	bs[510], bs[511] = 0x55, 0xAA
	if rootLabel != "" {
		root := img[3*512:]
		// a deleted entry and a long-name entry come first; both are skipped
		root[0] = 0xE5
		root[32] = 0x41
		root[32+11] = fatAttrLongName
		copy(root[64:64+11], padRight(rootLabel, 11, ' '))
		root[64+11] = fatAttrVolumeID
	}
	return img
}

func padRight(s string, n int, pad byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = pad
	}
	copy(b, s)
	return b
}
