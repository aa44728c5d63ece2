package system

import (
	"fmt"
	"path"
)

// InjectFile is nova-agent's injectfile: it writes content to path, which
// must be absolute and is cleaned lexically. Missing parents are created
// 0755; the write is atomic; an existing file keeps its mode and owner and
// its previous content as <path>.guestbridge.bak; a new file is 0644
// root:root (nova-agent 1.x's choice; 2.x used 0600). changed is false when
// the file already had exactly this content.
//
// A symlink as the last component is replaced, not followed, as nova-agent's
// rename did: the host picks the path, but the directory may belong to a
// guest user who must not redirect root's write elsewhere.
func (r Root) InjectFile(p string, content []byte) (changed bool, err error) {
	if !path.IsAbs(p) {
		return false, fmt.Errorf("inject file %q: path is not absolute", p)
	}
	clean := path.Clean(p)
	if clean == "/" {
		return false, fmt.Errorf("inject file %q: names the root directory", p)
	}
	changed, err = r.write(clean, content, WriteOptions{Mode: 0o644},
		writeSpec{backupSuffix: BackupSuffix})
	if err != nil {
		return false, fmt.Errorf("inject file: %w", err)
	}
	return changed, nil
}
