// Package configdrive reads an OpenStack config drive (label config-2, ISO
// 9660 or FAT) into a datasource.Instance without mounting it, udev or
// blkid: ProbeLabel identifies media, Find lists candidates, Open turns a
// directory, image or block device into an fs.FS, Read parses the tree, and
// Source ties them together as a datasource.Source.
//
// The drive layout and meta_data.json fields are nova's
// (nova/virt/configdrive.py, nova/api/metadata/base.py). Behaviour follows
// cloud-init's ConfigDrive datasource where it matters to the guest; the
// deliberate differences are documented on Read and Find.
//
// Media are read with go-diskfs, guarded: images are probed and their FAT
// chains and ISO directory extents bounded before go-diskfs sees them, its
// panics become errors, and reads never go past a file's end.
package configdrive
