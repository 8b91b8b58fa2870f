package x

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/herald-social/herald/platform/dryrun"
	"github.com/herald-social/herald/platform/x/fakex"
	"github.com/herald-social/herald/store"
)

// The refresh tests share one account: brand, user 1 at the fake X, with
// rt-0 as the refresh token of its environment.
func refreshWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0", RefreshToken: "rt-0", ClientID: "cid", ClientSecret: "cs"})
	w.env = map[string]string{"AT": "at-0", "RT": "rt-0", "CID": "cid", "CSECRET": "cs"}
	return w
}

// logs collects a Platform's JSON log records.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// find returns the records at level whose message contains msg.
func (l *logs) find(t *testing.T, level, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range l.records(t) {
		if r["level"] == level && strings.Contains(r["msg"].(string), msg) {
			out = append(out, r)
		}
	}
	return out
}

// node is one Herald process's platform on st (the world's store unless
// given), configured with the brand account.
func (w *world) node(st store.Store, l *logs) *Platform {
	w.t.Helper()
	return w.nodeKeys(st, l, testKey)
}

// nodeKeys is node with its token key and previous keys.
func (w *world) nodeKeys(st store.Store, l *logs, key []byte, previous ...[]byte) *Platform {
	w.t.Helper()
	if st == nil {
		st = w.store
	}
	if l == nil {
		l = &logs{}
	}
	p, err := New(Options{
		BaseURL: w.url, Store: storeTokens{st, w.clk}, TokenKey: key, PreviousTokenKeys: previous, Clock: w.clk, Logger: slog.New(slog.NewJSONHandler(l, nil)),
		Secrets: Resolver{LookupEnv: func(k string) (string, bool) { v, ok := w.env[k]; return v, ok }},
		DryRun:  dryrun.New(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := p.Configure(context.Background(), config(oauth2Account("brand", true))); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// tokenRequests counts the requests to X's token endpoint by status.
func (w *world) tokenRequests() map[int]int {
	n := map[int]int{}
	for _, r := range w.fake.Requests() {
		if r.Endpoint == fakex.EndpointToken {
			n[r.Status]++
		}
	}
	return n
}

// storedState decrypts the brand account's stored state.
func (w *world) storedState() tokenState {
	w.t.Helper()
	return w.storedStateKey(testKey)
}

// storedStateKey decrypts the brand account's stored state with key
// alone.
func (w *world) storedStateKey(key []byte) tokenState {
	w.t.Helper()
	st, err := w.store.GetState(context.Background(), tokenKey("brand"))
	if err != nil {
		w.t.Fatal(err)
	}
	s, err := newSealer(key)
	if err != nil {
		w.t.Fatal(err)
	}
	plain, err := s.open("brand", st.Value)
	if err != nil {
		w.t.Fatal(err)
	}
	var t tokenState
	if err := json.Unmarshal(plain, &t); err != nil {
		w.t.Fatal(err)
	}
	return t
}
