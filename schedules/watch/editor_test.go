package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Editors that save by rename: the watch must see the save and keep
// working for the next one, although the file's inode changes each time.
func TestEditorSaveByRename(t *testing.T) {
	t.Parallel()
	saves := map[string]func(t *testing.T, path, content string){
		// vim with backupcopy=no: the original becomes the backup, a new
		// file is written, the backup is removed.
		"vim": func(t *testing.T, path, content string) {
			must(t, os.Rename(path, path+"~"))
			writeFile(t, path, content)
			must(t, os.Remove(path+"~"))
		},
		// Most IDEs and atomic-write libraries: write a temporary file
		// beside the original, then rename it over.
		"ide": func(t *testing.T, path, content string) {
			tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp123")
			writeFile(t, tmp, content)
			must(t, os.Rename(tmp, path))
		},
	}
	configured := map[string]func(dir string) string{
		"folder": func(dir string) string { return dir },
		"file":   func(dir string) string { return filepath.Join(dir, "a.yaml") },
	}
	for saveName, save := range saves {
		for confName, conf := range configured {
			t.Run(saveName+"/"+confName, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(t.TempDir(), "config")
				file := filepath.Join(dir, "a.yaml")
				writeFile(t, file, "v0")
				w := startWatcher(t, Options{Paths: []string{conf(dir)}})
				for i := 1; i <= 3; i++ {
					save(t, file, fmt.Sprintf("v%d", i))
					waitChangeFor(t, w, "a.yaml")
					settle(t, w, testDebounce)
				}
			})
		}
	}
}
