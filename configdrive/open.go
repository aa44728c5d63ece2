package configdrive

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat12"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// Open opens a config drive as a read-only fs.FS: a directory (a copied
// tree such as /var/lib/cloud/seed/config_drive), an image file, or a block
// device. Images are read in user space (ISO 9660 with Rock Ridge or Joliet,
// FAT12/16/32), never mounted. Names are looked up case-insensitively, with
// an 8.3 fallback for media without long names. Close the Closer when done;
// the FS reads from it lazily.
func Open(path string) (fs.FS, io.Closer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config drive %s: %w", path, err)
	}
	if st.IsDir() {
		// os.Root keeps symlinks in the tree from reaching outside it.
		root, err := os.OpenRoot(path)
		if err != nil {
			return nil, nil, fmt.Errorf("config drive %s: %w", path, err)
		}
		return newMediaFS(dirFS{root}), root, nil
	}
	// A character device (a tty, /dev/zero) or FIFO could block or never
	// end; only image files and block devices are media.
	isBlock := st.Mode()&fs.ModeDevice != 0 && st.Mode()&fs.ModeCharDevice == 0
	if !st.Mode().IsRegular() && !isBlock {
		return nil, nil, fmt.Errorf("config drive %s: not a directory, image file or block device (mode %s)", path, st.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("config drive %s: %w", path, err)
	}
	if st2, err := f.Stat(); err != nil || !os.SameFile(st, st2) {
		f.Close()
		return nil, nil, fmt.Errorf("config drive %s: changed while being opened", path)
	}
	fsys, err := openImage(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("config drive %s: %w", path, err)
	}
	return newMediaFS(fsys), f, nil
}

// openImage probes f and hands it to the matching go-diskfs reader.
func openImage(f *os.File) (fsys fs.FS, err error) {
	// Stat reports 0 for a block device; seeking to the end gives its size
	// on Linux without an ioctl.
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("size: %w", err)
	}
	if size == 0 {
		return nil, errors.New("empty medium")
	}
	v, err := probe(f, size)
	if err != nil {
		return nil, err
	}
	if v.fat != nil {
		if err := v.fat.checkFATChains(f); err != nil {
			return nil, err
		}
	} else if err := checkISOTree(f, size, v.blockSize, v.isoRoots); err != nil {
		return nil, err
	}
	// go-diskfs trusts the on-disk structures; a corrupt image must give an
	// error, not take the process down.
	defer recoverAsError(&err, "reading the "+v.fstype+" filesystem")
	storage := file.New(f, true)
	switch v.fstype {
	case FSTypeISO9660:
		fsys, err = iso9660.Read(storage, size, 0, v.blockSize)
	case FSTypeFAT12:
		fsys, err = fat12.Read(storage, size, 0, v.blockSize)
	case FSTypeFAT16:
		fsys, err = fat16.Read(storage, size, 0, v.blockSize)
	case FSTypeFAT32:
		fsys, err = fat32.Read(storage, size, 0, v.blockSize)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.fstype, err)
	}
	return fsys, nil
}

// recoverAsError turns a panic in third-party filesystem code into *err.
// Use it deferred.
func recoverAsError(err *error, doing string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("corrupt filesystem: %s failed: %v", doing, r)
	}
}
