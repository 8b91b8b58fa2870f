package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

func testState(t *testing.T, h Harness) {
	t.Run("compare and swap", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		const key = "oauth2/x/acct-a"
		if _, err := f.s.GetState(f.ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetState of a new key: %v, want ErrNotFound", err)
		}
		put := func(value string, version int64, now time.Time) (int64, error) {
			return f.s.PutState(f.ctx, store.PutStateParams{Key: key, Value: []byte(value), Version: version, Now: now})
		}
		check := func(value string, version int64, at time.Time) {
			t.Helper()
			st, err := f.s.GetState(f.ctx, key)
			if err != nil || string(st.Value) != value || st.Version != version || !st.UpdatedAt.Equal(at) || st.UpdatedAt.Location() != time.UTC {
				t.Fatalf("GetState = %q v%d at %v, %v; want %q v%d at %v", st.Value, st.Version, st.UpdatedAt, err, value, version, at)
			}
		}
		steps := []struct {
			name        string
			value       string
			version     int64
			wantVersion int64
			wantErr     error
		}{
			{"create", "secret-1", 0, 1, nil},
			{"create again", "secret-x", 0, 0, store.ErrConflict},
			{"swap", "secret-2", 1, 2, nil},
			{"stale version", "secret-x", 1, 0, store.ErrConflict},
			{"future version", "secret-x", 7, 0, store.ErrConflict},
			{"swap again", "secret-3", 2, 3, nil},
		}
		var (
			last    string
			lastAt  time.Time
			current int64
		)
		for i, s := range steps {
			now := t0.Add(time.Duration(i) * time.Second)
			v, err := put(s.value, s.version, now)
			checkErr(t, err, s.wantErr)
			if v != s.wantVersion {
				t.Errorf("%s: version %d, want %d", s.name, v, s.wantVersion)
			}
			if err != nil && strings.Contains(err.Error(), s.value) {
				t.Errorf("%s: the error shows the value: %v", s.name, err)
			}
			if err == nil {
				last, lastAt, current = s.value, now, v
			}
			check(last, current, lastAt) // a refused swap changes nothing
		}
		// A key that does not exist cannot be swapped.
		_, err := f.s.PutState(f.ctx, store.PutStateParams{Key: "absent", Value: []byte("v"), Version: 1, Now: t0})
		checkErr(t, err, store.ErrConflict)
		if _, err := f.s.GetState(f.ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused swap created the key: %v", err)
		}
	})

	t.Run("binary values", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		all := make([]byte, 512)
		for i := range all {
			all[i] = byte(i)
		}
		cases := map[string][]byte{
			"zeros":  {0, 0, 0},
			"all":    all,
			"nul in": []byte("a\x00b\xff\xfe"),
			"empty":  {},
			"nil":    nil,
		}
		for key, value := range cases {
			if v, err := f.s.PutState(f.ctx, store.PutStateParams{Key: key, Value: value, Now: t0}); err != nil || v != 1 {
				t.Fatalf("PutState(%s) = %d, %v", key, v, err)
			}
			st, err := f.s.GetState(f.ctx, key)
			if err != nil || !bytes.Equal(st.Value, value) || st.Value == nil {
				t.Errorf("GetState(%s) = %v (nil %v), %v; want %v", key, st.Value, st.Value == nil, err, value)
			}
		}
	})

	t.Run("concurrent swaps", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		const (
			key     = "cursor"
			writers = 32
		)
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won = map[int64]int{} // version -> writer
		)
		start := make(chan struct{})
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				version := int64(0) // everyone first tries to create it
				for {
					v, err := f.s.PutState(f.ctx, store.PutStateParams{Key: key, Value: []byte(fmt.Sprint(i)), Version: version, Now: t0})
					if err == nil {
						mu.Lock()
						if prev, dup := won[v]; dup {
							t.Errorf("version %d won by writers %d and %d", v, prev, i)
						}
						won[v] = i
						mu.Unlock()
						return
					}
					if !errors.Is(err, store.ErrConflict) {
						t.Errorf("PutState: %v", err)
						return
					}
					st, err := f.s.GetState(f.ctx, key)
					if err != nil {
						t.Errorf("GetState: %v", err)
						return
					}
					version = st.Version
				}
			}()
		}
		close(start)
		wg.Wait()
		for v := int64(1); v <= writers; v++ {
			if _, ok := won[v]; !ok {
				t.Errorf("no writer won version %d", v)
			}
		}
		st, err := f.s.GetState(f.ctx, key)
		if err != nil || st.Version != writers || string(st.Value) != fmt.Sprint(won[writers]) {
			t.Errorf("final state = %q v%d, %v; want writer %d's value at v%d", st.Value, st.Version, err, won[writers], writers)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		for i, p := range []store.PutStateParams{
			{Value: []byte("v"), Now: t0},                        // no key
			{Key: "k", Value: []byte("v"), Version: -1, Now: t0}, // negative version
			{Key: "k", Value: []byte("v")},                       // no now
		} {
			if _, err := f.s.PutState(f.ctx, p); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("case %d: error = %v, want ErrInvalid", i, err)
			}
		}
	})
}
