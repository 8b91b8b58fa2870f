package adminv1_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestGeneratedCodeIsFresh fails when a .proto file changed since the
// committed code was generated: `make proto` records the sources' hashes in
// proto/gen.sum as it generates.
func TestGeneratedCodeIsFresh(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	sum, err := os.ReadFile(filepath.Join(root, "gen.sum"))
	if err != nil {
		t.Fatalf("proto/gen.sum: %v (run make proto)", err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sum)), "\n") {
		hash, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("proto/gen.sum: malformed line %q", line)
		}
		want[filepath.ToSlash(strings.TrimPrefix(name, "./"))] = hash
	}
	var got []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".proto" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		got = append(got, rel)
		h := sha256.Sum256(b)
		if w, ok := want[rel]; !ok {
			t.Errorf("proto/%s is not in proto/gen.sum: its code was never generated (run make proto)", rel)
		} else if w != hex.EncodeToString(h[:]) {
			t.Errorf("proto/%s changed since its code was generated (run make proto and commit the result)", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if len(got) != len(want) {
		t.Errorf("proto/gen.sum names %d files, proto/ has %d (%v): run make proto", len(want), len(got), got)
	}
}
