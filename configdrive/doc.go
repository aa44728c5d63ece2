// Package configdrive reads an OpenStack config drive (label config-2, ISO
// 9660 or FAT) into a datasource.Instance without mounting it, udev or
// blkid: ProbeLabel identifies media, Find lists candidates, Open turns a
// directory, image or block device into an fs.FS, Read parses the tree, and
// Source ties them together as a datasource.Source.
//
// Formats: /work/shared/docs/configdrive-format.md in the design notes
// (nova's configdrive.py and metadata/base.py); behaviour follows
// cloud-init's ConfigDrive datasource where it matters to the guest, with
// the differences documented on Read and Find.
package configdrive
