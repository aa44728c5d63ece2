// Package deps pins the modules the project uses while packages are being
// written in parallel. Delete it once every import below is used for real.
package deps

import (
	_ "github.com/diskfs/go-diskfs/backend/file"
	_ "github.com/diskfs/go-diskfs/filesystem/fat12"
	_ "github.com/diskfs/go-diskfs/filesystem/fat16"
	_ "github.com/diskfs/go-diskfs/filesystem/fat32"
	_ "github.com/diskfs/go-diskfs/filesystem/iso9660"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	_ "github.com/insomniacslk/dhcp/dhcpv4/server4"
	_ "github.com/insomniacslk/dhcp/dhcpv6/nclient6"
	_ "github.com/insomniacslk/dhcp/dhcpv6/server6"
	_ "github.com/spf13/pflag"
	_ "github.com/vishvananda/netlink"
	_ "github.com/vishvananda/netns"
	_ "go.yaml.in/yaml/v3"
)
