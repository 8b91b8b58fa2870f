//go:build linux

package watch

import (
	"io/fs"
	"syscall"
)

// keyOf is the stat data that says whether a file may have changed since
// its content was hashed: a rename over it changes the inode, an in-place
// write changes mtime and ctime (ctime also catches `cp -p` and `touch -d`
// setting an old mtime).
func keyOf(info fs.FileInfo) statKey {
	k := statKey{size: info.Size(), mtime: info.ModTime().UnixNano(), mode: info.Mode()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		k.id = fileID{dev: uint64(st.Dev), ino: st.Ino}
		k.ctime = st.Ctim.Nano()
	}
	return k
}

// idOf identifies a folder, so that a folder replaced by another of the
// same name is watched again (a watch follows the inode, not the name).
func idOf(info fs.FileInfo) fileID {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: st.Ino}
	}
	return fileID{}
}
