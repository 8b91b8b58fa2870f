package storeutil

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/herald-social/herald/store"
)

func TestPageToken(t *testing.T) {
	t.Parallel()
	for _, c := range []Cursor{{0, 1}, {-5, 7}, {time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), 1 << 62}} {
		got, ok, err := DecodePage(EncodePage(c))
		if err != nil || !ok || got != c {
			t.Errorf("round trip of %v = %v, %v, %v", c, got, ok, err)
		}
	}
	if _, ok, err := DecodePage(""); ok || err != nil {
		t.Errorf(`DecodePage("") = %v, %v`, ok, err)
	}
	for _, bad := range []string{"%%%", "eDox", "ajE6MQ", "ajI6MToy", "ajE6YTpi"} {
		if _, _, err := DecodePage(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("DecodePage(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSegments(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ids  []int64
		skip map[int]bool
		want string
	}{
		{nil, nil, "[]"},
		{[]int64{1, 2, 3}, nil, "[[0 1 2]]"},
		{[]int64{1, 2, 1, 3, 1}, nil, "[[0 1] [2 3] [4]]"},
		{[]int64{1, 2, 1, 3}, map[int]bool{0: true}, "[[1 2 3]]"},
		{[]int64{1, 1}, map[int]bool{0: true, 1: true}, "[]"},
	}
	for _, c := range cases {
		items := make([]Transition, len(c.ids))
		for i, id := range c.ids {
			items[i].JobID = id
		}
		got := Segments(items, func(i int) bool { return c.skip[i] })
		if s := fmt.Sprint(got); s != c.want {
			t.Errorf("Segments(%v, skip %v) = %s, want %s", c.ids, c.skip, s, c.want)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	cases := []struct {
		name    string
		fs      fstest.MapFS
		want    string
		wantErr bool
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A")}, "[{1 a A} {2 b B}]", false},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, "", true},
		{"bad name", fstest.MapFS{"m/0001_a.sql": file("A"), "m/2_b.sql": file("B")}, "", true},
		{"no dir", fstest.MapFS{}, "", true},
	}
	for _, c := range cases {
		ms, err := LoadMigrations(c.fs, "m")
		if (err != nil) != c.wantErr || (err == nil && fmt.Sprint(ms) != c.want) {
			t.Errorf("%s: LoadMigrations = %v, %v", c.name, ms, err)
		}
	}
}

func TestNanos(t *testing.T) {
	t.Parallel()
	cases := []struct {
		t  time.Time
		ok bool
	}{
		{time.Time{}, false},
		{time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2030, 6, 1, 12, 0, 0, 1, time.FixedZone("x", -3600)), true},
	}
	for _, c := range cases {
		n, err := Nanos("T", c.t)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, store.ErrInvalid)) {
			t.Errorf("Nanos(%v) = %v", c.t, err)
		}
		if c.ok && (!Time(n).Equal(c.t) || Time(n).Location() != time.UTC) {
			t.Errorf("Time(Nanos(%v)) = %v", c.t, Time(n))
		}
	}
}

func TestSortSnapshots(t *testing.T) {
	t.Parallel()
	cases := []struct {
		posts []string
		in    string // post/stage-hours, space separated
		want  string
	}{
		{nil, "b/2 a/1 b/1", "[a/1 b/1 b/2]"},
		{[]string{"z", "a"}, "a/24 m/1 z/24 a/1 z/1 b/1", "[z/1 z/24 a/1 a/24 b/1 m/1]"},
		{[]string{"z", "a", "z"}, "z/2 a/1 z/1", "[z/1 z/2 a/1]"},
	}
	for _, c := range cases {
		var snaps []store.MetricsSnapshot
		for _, f := range strings.Fields(c.in) {
			post, hours, _ := strings.Cut(f, "/")
			h, _ := strconv.Atoi(hours)
			snaps = append(snaps, store.MetricsSnapshot{PostID: post, Stage: time.Duration(h) * time.Hour})
		}
		SortSnapshots(snaps, c.posts)
		var got []string
		for _, s := range snaps {
			got = append(got, fmt.Sprintf("%s/%d", s.PostID, int(s.Stage.Hours())))
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("SortSnapshots(%s, posts %q) = %v, want %s", c.in, c.posts, got, c.want)
		}
	}
}

func TestCounts(t *testing.T) {
	t.Parallel()
	for _, m := range []map[string]int64{nil, {}, {"a": 1, "b": -1 << 62}} {
		enc, err := EncodeCounts(m)
		if err != nil {
			t.Fatal(err)
		}
		if (enc == nil) != (m == nil) {
			t.Errorf("EncodeCounts(%v) = %v: nil-ness lost", m, enc)
		}
		dec, err := DecodeCounts(enc)
		if err != nil || (dec == nil) != (m == nil) || fmt.Sprint(dec) != fmt.Sprint(m) {
			t.Errorf("round trip of %v = %v, %v", m, dec, err)
		}
	}
	bad := "[1]"
	if _, err := DecodeCounts(&bad); err == nil {
		t.Error("DecodeCounts of an array: no error")
	}
}
