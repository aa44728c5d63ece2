package configdrive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"guestbridge/datasource"
)

// Size limits. Nova accepts at most 64 KiB of user_data (base64) and 10 KiB
// per injected file by default, and its JSON documents are a few KiB; the
// limits leave generous room for other builders of config drives while
// keeping the memory a read costs bounded (every byte is held in memory,
// and a seed or apply copies it again): anything bigger is refused with an
// error naming the file rather than read.
const (
	MaxJSONSize     = 1 << 20  // meta_data.json, network_data.json, vendor_data*.json (vendor data), ec2 meta-data.json
	MaxUserDataSize = 16 << 20 // user_data
	MaxFileSize     = 16 << 20 // each injected file (files[].content_path)
	MaxFilesTotal   = 32 << 20 // all injected files together
)

// ReadOptions tune Read.
type ReadOptions struct {
	// KnownNames maps a lower-case MAC to the guest's current interface
	// name; passed to ParseNetworkData.
	KnownNames map[string]string
}

// Read turns a config drive tree into an Instance (Source is left for the
// caller). It reads openstack/latest, or else the newest dated version that
// has a meta_data.json; a newer cloud-init-unknown version is fine since
// nova writes the same documents to every version directory.
//
// Missing optional documents (user_data, vendor_data*.json,
// network_data.json, ec2 meta-data) are not errors; then the matching
// Instance fields stay empty (Network stays nil). Vendor data comes from
// vendor_data.json and, only when that yields nothing, from the "static"
// entry of vendor_data2.json. ec2/latest/meta-data.json only fills a
// missing hostname, availability zone or key list, and is never the
// source of InstanceID.
func Read(fsys fs.FS, opts ReadOptions) (*datasource.Instance, error) {
	dir, err := pickVersion(fsys)
	if err != nil {
		return nil, err
	}
	mdPath := dir + "/meta_data.json"
	data, err := readLimited(fsys, mdPath, MaxJSONSize)
	if err != nil {
		return nil, err
	}
	md, err := parseMetaData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mdPath, err)
	}
	inst := &datasource.Instance{
		InstanceID:       md.UUID,
		Hostname:         md.Hostname,
		Name:             md.Name,
		AvailabilityZone: md.AvailabilityZone,
		ProjectID:        md.ProjectID,
		LaunchIndex:      md.LaunchIndex,
		PublicKeys:       md.PublicKeys,
		AdminPass:        md.AdminPass,
		Meta:             md.Meta,
		RandomSeed:       md.RandomSeed,
		Warnings:         prefixAll(mdPath, md.Warnings),
	}
	if inst.Files, err = readFiles(fsys, mdPath, md.Files); err != nil {
		return nil, err
	}
	if inst.UserData, err = readOptional(fsys, dir+"/user_data", MaxUserDataSize); err != nil {
		return nil, err
	}
	if err := readVendorData(fsys, dir, inst); err != nil {
		return nil, err
	}
	if err := readNetwork(fsys, dir, opts, inst); err != nil {
		return nil, err
	}
	if err := fillFromEC2(fsys, inst); err != nil {
		return nil, err
	}
	return inst, nil
}

// isDatedVersion reports whether name has the shape of a metadata version
// directory, YYYY-MM-DD (digits only, not checked as a date).
func isDatedVersion(name string) bool {
	if len(name) != len("2006-01-02") {
		return false
	}
	for i, c := range []byte(name) {
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// pickVersion returns "openstack/<version>" for latest, else the newest
// dated version, that holds a meta_data.json.
func pickVersion(fsys fs.FS) (string, error) {
	entries, err := fs.ReadDir(fsys, "openstack")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", errors.New("openstack/: no such directory; not an OpenStack config drive")
		}
		return "", fmt.Errorf("openstack/: %w", err)
	}
	var latest string
	var dated []string
	for _, e := range entries {
		switch {
		case !e.IsDir():
		case strings.EqualFold(e.Name(), "latest"):
			latest = e.Name()
		case isDatedVersion(e.Name()):
			dated = append(dated, e.Name())
		}
	}
	slices.Sort(dated)
	slices.Reverse(dated)
	candidates := dated
	if latest != "" {
		candidates = append([]string{latest}, dated...)
	}
	for _, v := range candidates {
		_, err := fs.Stat(fsys, "openstack/"+v+"/meta_data.json")
		if errors.Is(err, ErrNotRegular) {
			return "", err // a FIFO or device: say so, not "no version"
		}
		if err == nil {
			return "openstack/" + v, nil
		}
	}
	return "", errors.New("openstack/: no latest or dated (YYYY-MM-DD) version directory with a meta_data.json")
}

// readFiles loads the content of each injected file.
func readFiles(fsys fs.FS, mdPath string, refs []fileRef) ([]datasource.File, error) {
	var files []datasource.File
	var total int64
	for i, ref := range refs {
		content, err := readLimited(fsys, ref.ContentPath, min(MaxFileSize, MaxFilesTotal-total))
		if err != nil {
			if total > 0 && errors.Is(err, errTooLarge) {
				err = fmt.Errorf("%w (the injected files together may hold at most %d bytes)", err, int64(MaxFilesTotal))
			}
			return nil, fmt.Errorf("%s: files[%d].content_path: %w", mdPath, i, err)
		}
		total += int64(len(content))
		files = append(files, datasource.File{Path: ref.GuestPath, Content: content})
	}
	return files, nil
}

func readVendorData(fsys fs.FS, dir string, inst *datasource.Instance) error {
	for _, doc := range []struct{ file, member string }{
		{"vendor_data.json", ""},
		{"vendor_data2.json", "static"},
	} {
		p := dir + "/" + doc.file
		data, err := readOptionalJSON(fsys, p)
		if err != nil {
			return err
		}
		if data == nil {
			continue
		}
		raw := json.RawMessage(data)
		if doc.member != "" {
			top, err := decodeObject("", raw)
			if err != nil {
				inst.Warnings = append(inst.Warnings, p+": "+err.Error()+", ignored")
				continue
			}
			raw = top[doc.member]
		}
		vendor, warnings := unwrapVendorData(doc.member, raw)
		inst.Warnings = append(inst.Warnings, prefixAll(p, warnings)...)
		if vendor != nil {
			inst.VendorData = vendor
			return nil
		}
	}
	return nil
}

func readNetwork(fsys fs.FS, dir string, opts ReadOptions, inst *datasource.Instance) error {
	p := dir + "/network_data.json"
	data, err := readOptional(fsys, p, MaxJSONSize)
	if err != nil || data == nil {
		return err
	}
	cfg, warnings, err := ParseNetworkData(data, NetworkOptions(opts))
	if err != nil {
		return errors.New(networkMessage(dir, err.Error()))
	}
	inst.Network = cfg
	for _, w := range warnings {
		inst.Warnings = append(inst.Warnings, networkMessage(dir, w))
	}
	return nil
}

// networkMessage makes a ParseNetworkData message name the full path; its
// messages may already start with "network_data.json".
func networkMessage(dir, msg string) string {
	const file = "network_data.json"
	if strings.HasPrefix(msg, file) {
		return dir + "/" + msg
	}
	return dir + "/" + file + ": " + msg
}

// fillFromEC2 consults ec2/latest/meta-data.json only for what is missing.
// Its problems are warnings: the openstack tree already gave a usable
// Instance.
func fillFromEC2(fsys fs.FS, inst *datasource.Instance) error {
	if inst.Hostname != "" && inst.AvailabilityZone != "" && len(inst.PublicKeys) > 0 {
		return nil
	}
	data, err := readOptional(fsys, ec2MetaPath, MaxJSONSize)
	if err != nil {
		inst.Warnings = append(inst.Warnings, err.Error()+" (ec2 fallback skipped)")
		return nil
	}
	if data == nil {
		return nil
	}
	ec2, err := parseEC2Meta(data)
	if err != nil {
		inst.Warnings = append(inst.Warnings, ec2MetaPath+": "+err.Error()+" (ec2 fallback skipped)")
		return nil
	}
	fill := func(dst *string, v, what string) {
		if *dst == "" && v != "" {
			*dst = v
			inst.Warnings = append(inst.Warnings, what+" taken from "+ec2MetaPath)
		}
	}
	fill(&inst.Hostname, ec2.Hostname, "hostname")
	fill(&inst.AvailabilityZone, ec2.AvailabilityZone, "availability zone")
	if len(inst.PublicKeys) == 0 && len(ec2.PublicKeys) > 0 {
		inst.PublicKeys = ec2.PublicKeys
		inst.Warnings = append(inst.Warnings, "public keys taken from "+ec2MetaPath)
	}
	return nil
}

// prefixAll puts "<file>: " before each message.
func prefixAll(file string, msgs []string) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, file+": "+m)
	}
	return out
}
