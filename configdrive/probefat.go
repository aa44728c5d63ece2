package configdrive

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// fatBPB is the part of a FAT boot sector the probe needs. Offsets are those
// of the Microsoft FAT specification (and dosfstools' boot.c).
type fatBPB struct {
	bytesPerSector    int64
	sectorsPerCluster int64
	reservedSectors   int64
	fatCount          int64
	rootEntries       int64
	totalSectors      int64
	sectorsPerFAT     int64
	rootCluster       uint32 // FAT32 only
	fat32             bool
	bootLabel         string // "" when the EBPB has none or says NO NAME
}

const (
	fatBootSectorSize = 512
	fatDirEntrySize   = 32
	fatAttrVolumeID   = 0x08
	fatAttrDirectory  = 0x10
	fatAttrLongName   = 0x0F
	fatExtBootSig     = 0x29
	fatNoName         = "NO NAME"
	fat12MaxClusters  = 4085  // fewer clusters than this is FAT12
	fat16MaxClusters  = 65525 // fewer than this (and not FAT32 layout) is FAT16
	fat32MaxRootChain = 64    // clusters of the root directory scanned for the label
)

// probeFAT reports isFAT once the boot sector passes the BPB sanity checks
// blkid and the kernel apply; err then says what else is broken.
func probeFAT(r io.ReaderAt, size int64) (v volume, isFAT bool, err error) {
	bs := make([]byte, fatBootSectorSize)
	if _, err := r.ReadAt(bs, 0); err != nil {
		return volume{}, false, nil
	}
	bpb, ok := parseFATBPB(bs)
	if !ok {
		return volume{}, false, nil
	}
	fstype, err := bpb.fsType()
	if err != nil {
		return volume{}, true, err
	}
	if err := bpb.checkFits(size); err != nil {
		return volume{}, true, err
	}
	// mkfs.fat -n and fatlabel write the label twice; blkid's LABEL is the
	// root-directory entry, LABEL_FATBOOT the boot sector copy.
	label, found, err := bpb.rootDirLabel(r)
	if err != nil {
		return volume{}, true, err
	}
	if !found {
		label = bpb.bootLabel
	}
	return volume{label: label, fstype: fstype, blockSize: bpb.bytesPerSector, fat: &bpb}, true, nil
}

func parseFATBPB(bs []byte) (fatBPB, bool) {
	le16 := func(off int) int64 { return int64(binary.LittleEndian.Uint16(bs[off:])) }
	le32 := func(off int) int64 { return int64(binary.LittleEndian.Uint32(bs[off:])) }
	if bs[0] != 0xEB && bs[0] != 0xE9 { // x86 jump to the boot code
		return fatBPB{}, false
	}
	b := fatBPB{
		bytesPerSector:    le16(0x0B),
		sectorsPerCluster: int64(bs[0x0D]),
		reservedSectors:   le16(0x0E),
		fatCount:          int64(bs[0x10]),
		rootEntries:       le16(0x11),
		totalSectors:      le16(0x13),
		sectorsPerFAT:     le16(0x16),
	}
	media := bs[0x15]
	if !powerOfTwoIn(b.bytesPerSector, 512, 4096) || !powerOfTwoIn(b.sectorsPerCluster, 1, 128) ||
		b.reservedSectors == 0 || b.fatCount == 0 || b.fatCount > 4 || (media != 0xF0 && media < 0xF8) {
		return fatBPB{}, false
	}
	if b.totalSectors == 0 {
		b.totalSectors = le32(0x20)
	}
	labelOff := 0x2B
	if b.sectorsPerFAT == 0 && b.rootEntries == 0 { // FAT32 layout, as the kernel decides it
		b.fat32 = true
		b.sectorsPerFAT = le32(0x24)
		b.rootCluster = binary.LittleEndian.Uint32(bs[0x2C:])
		labelOff = 0x47
	}
	if b.totalSectors == 0 || b.sectorsPerFAT == 0 {
		return fatBPB{}, false
	}
	if bs[labelOff-5] == fatExtBootSig {
		if l := trimPadding(bs[labelOff : labelOff+11]); l != fatNoName {
			b.bootLabel = l
		}
	}
	return b, true
}

func powerOfTwoIn(n, lo, hi int64) bool {
	return n >= lo && n <= hi && bits.OnesCount64(uint64(n)) == 1
}

func (b fatBPB) rootDirSectors() int64 {
	return (b.rootEntries*fatDirEntrySize + b.bytesPerSector - 1) / b.bytesPerSector
}

// dataStart is the first sector of the cluster area.
func (b fatBPB) dataStart() int64 {
	return b.reservedSectors + b.fatCount*b.sectorsPerFAT + b.rootDirSectors()
}

func (b fatBPB) fsType() (string, error) {
	if b.dataStart() >= b.totalSectors {
		return "", fmt.Errorf("fat: reserved, FAT and root directory sectors (%d) fill the whole %d-sector volume", b.dataStart(), b.totalSectors)
	}
	if b.fat32 {
		return FSTypeFAT32, nil
	}
	clusters := (b.totalSectors - b.dataStart()) / b.sectorsPerCluster
	switch {
	case clusters < fat12MaxClusters:
		return FSTypeFAT12, nil
	case clusters < fat16MaxClusters:
		return FSTypeFAT16, nil
	default:
		return "", fmt.Errorf("fat: %d clusters with a FAT12/16 layout", clusters)
	}
}

// checkFits refuses a volume whose FATs or root directory lie past the end
// of the medium; readers would otherwise allocate what the BPB claims.
func (b fatBPB) checkFits(size int64) error {
	if size < 0 {
		return nil
	}
	if end := b.dataStart() * b.bytesPerSector; end > size {
		return fmt.Errorf("fat: FATs and root directory end at byte %d, past the end of the %d-byte medium", end, size)
	}
	return nil
}

// rootDirLabel looks for the volume-label entry in the root directory.
func (b fatBPB) rootDirLabel(r io.ReaderAt) (string, bool, error) {
	if !b.fat32 {
		dir := make([]byte, b.rootEntries*fatDirEntrySize)
		off := (b.reservedSectors + b.fatCount*b.sectorsPerFAT) * b.bytesPerSector
		if _, err := r.ReadAt(dir, off); err != nil {
			return "", false, fmt.Errorf("fat: root directory at byte %d: %w", off, err)
		}
		label, found, _ := scanLabelEntries(dir)
		return label, found, nil
	}
	clusterBytes := b.sectorsPerCluster * b.bytesPerSector
	buf := make([]byte, clusterBytes)
	cluster := b.rootCluster
	for i := 0; i < fat32MaxRootChain && cluster >= 2 && cluster < 0x0FFFFFF7; i++ {
		off := (b.dataStart() + int64(cluster-2)*b.sectorsPerCluster) * b.bytesPerSector
		if _, err := r.ReadAt(buf, off); err != nil {
			return "", false, fmt.Errorf("fat32: root directory cluster %d: %w", cluster, err)
		}
		label, found, end := scanLabelEntries(buf)
		if found || end {
			return label, found, nil
		}
		next, err := b.nextCluster(r, cluster)
		if err != nil {
			return "", false, err
		}
		cluster = next
	}
	return "", false, nil
}

func (b fatBPB) nextCluster(r io.ReaderAt, cluster uint32) (uint32, error) {
	var entry [4]byte
	off := b.reservedSectors*b.bytesPerSector + int64(cluster)*4
	if _, err := r.ReadAt(entry[:], off); err != nil {
		return 0, fmt.Errorf("fat32: FAT entry of cluster %d: %w", cluster, err)
	}
	return binary.LittleEndian.Uint32(entry[:]) & 0x0FFFFFFF, nil
}

// scanLabelEntries returns the first volume-label entry; end is true when
// the end-of-directory marker was reached.
func scanLabelEntries(dir []byte) (label string, found, end bool) {
	for off := 0; off+fatDirEntrySize <= len(dir); off += fatDirEntrySize {
		e := dir[off : off+fatDirEntrySize]
		switch {
		case e[0] == 0x00:
			return "", false, true
		case e[0] == 0xE5: // deleted
			continue
		case e[11] == fatAttrLongName:
			continue
		case e[11]&fatAttrVolumeID != 0 && e[11]&fatAttrDirectory == 0:
			name := e[:11:11]
			if name[0] == 0x05 { // 0xE5 stored as 0x05 in the first byte
				name = append([]byte{0xE5}, name[1:]...)
			}
			return trimPadding(name), true, false
		}
	}
	return "", false, false
}
