//go:build !linux

package watch

import "io/fs"

// keyOf is the portable part of the stat data (see the Linux version):
// without inode and ctime, a file replaced by one of the same size and
// mtime keeps its cached hash until the racy window rules it out.
func keyOf(info fs.FileInfo) statKey {
	return statKey{size: info.Size(), mtime: info.ModTime().UnixNano(), mode: info.Mode()}
}

// idOf cannot identify a folder portably; a folder replaced by another of
// the same name is then re-watched only when fsnotify drops the old watch.
func idOf(fs.FileInfo) fileID { return fileID{} }
