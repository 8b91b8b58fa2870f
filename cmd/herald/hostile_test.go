package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

const hostilePlan = "accounts:\n  brand: {platform: x}\nschedules:\n  - {id: h, account: brand, cron: \"0 * * * *\", post: {text: hi}}\n"

// The API paths the attacks aim at.
const (
	getStatusPath = "/herald.admin.v1.AdminService/GetStatus"
	watchPath     = "/herald.admin.v1.AdminService/WatchJobEvents"
	triggerPath   = "/herald.admin.v1.AdminService/TriggerSchedule"
)

// TestHostileInputs attacks a real herald serve with admin tokens as the
// issue's attacker did: compression bombs, huge bodies without a token,
// slow clients, malformed Connect and gRPC frames. Meanwhile an honest
// client's GetStatus calls must all succeed, and the process's peak
// resident memory must stay within 100 MB of its size before the attacks.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", hostilePlan)
	n := startNodeEnv(t, []string{"HERALD_ADMIN_TOKENS=admin:" + adminToken + "\nread:" + readToken},
		"--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "h.db"), "--node-id", "hostile", "--dry-run")
	addr := n.waitLog("start", 30*time.Second, msgIs("herald started"))["listen"].(string)
	base := "http://" + addr
	honest := startHonestClient(t, base)
	honest.waitFirst(t)
	rssBefore := procStatusKB(t, n.cmd.Process.Pid, "VmRSS")

	t.Run("gzip bomb", func(t *testing.T) { gzipBombs(t, base) })
	t.Run("huge body without a token", func(t *testing.T) { hugeBodyWithoutToken(t, addr) })
	t.Run("wrong tokens", func(t *testing.T) { wrongTokens(t, base) })
	t.Run("slow clients", func(t *testing.T) { slowClients(t, addr) })
	t.Run("malformed frames", func(t *testing.T) { malformedFrames(t, base) })
	t.Run("anonymous readyz and metrics", func(t *testing.T) { anonymousEndpoints(t, base) })

	ok, failures := honest.stop()
	if ok == 0 || len(failures) > 0 {
		t.Errorf("honest client during the attacks: %d calls answered, %d failed: %v", ok, len(failures), failures)
	}
	peak := procStatusKB(t, n.cmd.Process.Pid, "VmHWM")
	t.Logf("resident memory: %d MB before the attacks, peak %d MB; honest calls answered: %d", rssBefore>>10, peak>>10, ok)
	if peak > rssBefore+100<<10 {
		t.Errorf("peak resident memory %d MB, more than 100 MB above the %d MB before the attacks", peak>>10, rssBefore>>10)
	}
}

// honestClient calls GetStatus with a read token, over Connect and gRPC
// in turn, until stopped.
type honestClient struct {
	done     chan struct{}
	finished chan struct{}
	ok       atomic.Int64
	mu       sync.Mutex
	failures []string
}

func startHonestClient(t *testing.T, base string) *honestClient {
	h := &honestClient{done: make(chan struct{}), finished: make(chan struct{})}
	clients := []adminv1connectClient{apiClients{base: base}.client("connect", readToken), apiClients{base: base}.client("grpc", readToken)}
	go func() {
		defer close(h.finished)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 100_000; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			_, err := clients[i%2].GetStatus(ctx, connect.NewRequest(&adminv1.GetStatusRequest{}))
			cancel()
			if err != nil {
				h.mu.Lock()
				h.failures = append(h.failures, err.Error())
				h.mu.Unlock()
			} else {
				h.ok.Add(1)
			}
			select {
			case <-h.done:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { h.stop() })
	return h
}

type adminv1connectClient interface {
	GetStatus(context.Context, *connect.Request[adminv1.GetStatusRequest]) (*connect.Response[adminv1.GetStatusResponse], error)
}

// waitFirst waits for the first answered call (the warm-up).
func (h *honestClient) waitFirst(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.ok.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the honest client got no answer: %v", h.failures)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *honestClient) stop() (int64, []string) {
	select {
	case <-h.done:
	default:
		close(h.done)
	}
	<-h.finished
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ok.Load(), h.failures
}

// procStatusKB reads a field (VmRSS, VmHWM) of /proc/PID/status, in kB.
func procStatusKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", field, line, err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// gzipBomb is members gzip members of 1 MiB of zeros each, concatenated:
// about 1 kB sent for each MiB inflated.
func gzipBomb(t *testing.T, members int) []byte {
	t.Helper()
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	if _, err := zw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(one.Bytes(), members)
}

// grpcFrame is a gRPC length-prefixed message.
func grpcFrame(compressed bool, declared uint32, payload []byte) []byte {
	head := make([]byte, 5)
	if compressed {
		head[0] = 1
	}
	binary.BigEndian.PutUint32(head[1:], declared)
	return append(head, payload...)
}

// answer is what the server said to one hostile request.
type answer struct {
	status     int
	body       string
	grpcStatus string
}

// send posts body to path with headers, over h2c when grpc, and reads the
// whole answer (trailers included).
func send(t *testing.T, base, path string, grpc bool, headers map[string]string, body io.Reader) answer {
	t.Helper()
	hc := &http.Client{Timeout: time.Minute}
	if grpc {
		tr := &http.Transport{}
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
		hc.Transport = tr
	}
	req, err := http.NewRequest("POST", base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	gs := resp.Trailer.Get("Grpc-Status")
	if gs == "" {
		gs = resp.Header.Get("Grpc-Status")
	}
	return answer{status: resp.StatusCode, body: string(b), grpcStatus: gs}
}

func withToken(token string, h map[string]string) map[string]string {
	h["Authorization"] = "Bearer " + token
	return h
}

// gzipBombs: 1.1 GB in 1.1 MB is refused by the body cap, 0.9 GB in 0.9 MB
// by the message cap, over Connect and gRPC, with a valid token.
func gzipBombs(t *testing.T, base string) {
	big, small := gzipBomb(t, 1100), gzipBomb(t, 900)
	connectHeaders := func() map[string]string {
		return withToken(readToken, map[string]string{"Content-Type": "application/proto", "Content-Encoding": "gzip"})
	}
	for _, c := range []struct {
		name string
		body []byte
	}{{"past the body cap", big}, {"past the message cap", small}} {
		a := send(t, base, getStatusPath, false, connectHeaders(), bytes.NewReader(c.body))
		if a.status == http.StatusOK || !strings.Contains(a.body, "resource_exhausted") {
			t.Errorf("Connect, %s (%d bytes): %d %s, want resource_exhausted", c.name, len(c.body), a.status, a.body)
		}
		grpcHeaders := withToken(readToken, map[string]string{"Content-Type": "application/grpc", "Grpc-Encoding": "gzip", "Te": "trailers"})
		a = send(t, base, getStatusPath, true, grpcHeaders, bytes.NewReader(grpcFrame(true, uint32(len(c.body)), c.body)))
		if a.grpcStatus != strconv.Itoa(int(connect.CodeResourceExhausted)) {
			t.Errorf("gRPC, %s: HTTP %d, grpc-status %q, want %d", c.name, a.status, a.grpcStatus, connect.CodeResourceExhausted)
		}
	}
}

// hugeBodyWithoutToken: a request declaring a 1 GB body, without a token,
// is answered 401 while the client is still sending, and the server
// closes the connection instead of reading the rest: the client could send
// only what the socket buffers hold. (A raw connection: Go's client may
// report the write's reset rather than the answer that preceded it.)
func hugeBodyWithoutToken(t *testing.T, addr string) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	const size = 1 << 30
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/proto\r\nContent-Length: %d\r\n\r\n", getStatusPath, size); err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		chunk := make([]byte, 64<<10)
		for sent.Load() < size {
			n, err := conn.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("1 GB without a token: no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	<-wrote // the server closed the connection, or all was sent
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "unauthenticated") {
		t.Errorf("1 GB without a token: %d %s, want 401 unauthenticated", resp.StatusCode, body)
	}
	if sent.Load() > 64<<20 {
		t.Errorf("the client sent %d MB of the 1 GB body: the server read it", sent.Load()>>20)
	}
	t.Logf("1 GB without a token: 401; the client could send %d kB", sent.Load()>>10)
}

// wrongTokens: an unknown token and a read token on a mutation.
func wrongTokens(t *testing.T, base string) {
	h := withToken("not-a-token-0123456789", map[string]string{"Content-Type": "application/json"})
	if a := send(t, base, getStatusPath, false, h, strings.NewReader("{}")); a.status != http.StatusUnauthorized || !strings.Contains(a.body, "unknown token") {
		t.Errorf("unknown token: %d %s, want 401 naming the unknown token", a.status, a.body)
	}
	h = withToken(readToken, map[string]string{"Content-Type": "application/json"})
	if a := send(t, base, triggerPath, false, h, strings.NewReader(`{"id":"h"}`)); a.status != http.StatusForbidden || !strings.Contains(a.body, "permission_denied") {
		t.Errorf("read token on TriggerSchedule: %d %s, want 403 permission_denied", a.status, a.body)
	}
}

// slowClients: headers trickled a byte a second are cut by the header
// timeout; a body trickled likewise, by the read timeout. Each connection
// must be closed by the server well before the client gives up.
func slowClients(t *testing.T, addr string) {
	cases := []struct{ name, head string }{
		{"slowloris headers", "GET /healthz HTTP/1.1\r\nHost: localhost\r\n"},
		{"slow body", "POST " + getStatusPath + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + readToken +
			"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"},
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			if err := trickle(addr, c.head); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			t.Logf("%s: closed by the server after %v", c.name, time.Since(start).Round(time.Second))
		}()
	}
	wg.Wait()
}

// trickle sends head, then one byte a second, until the server closes the
// connection (nil) or 90 seconds pass (an error: the server's timeouts
// are 5 s for the headers and 30 s for the whole request).
func trickle(addr, head string) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head); err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; i < 180; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := io.WriteString(conn, "x"); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(90 * time.Second))
	_, err = io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("the server kept the connection open for 90 seconds")
	}
	return nil
}

// malformedFrames: garbage where a message or a frame should be is refused
// with an error, never a hang or a crash, and a declared 4 GB message is
// refused without being awaited or allocated.
func malformedFrames(t *testing.T, base string) {
	connectProto := func() map[string]string {
		return withToken(readToken, map[string]string{"Content-Type": "application/proto"})
	}
	grpc := func() map[string]string {
		return withToken(readToken, map[string]string{"Content-Type": "application/grpc", "Te": "trailers"})
	}
	streamHeaders := withToken(readToken, map[string]string{"Content-Type": "application/connect+proto"})
	cases := []struct {
		name    string
		path    string
		grpc    bool
		headers map[string]string
		body    []byte
		want    string // in the body (Connect) or the grpc-status (gRPC)
	}{
		{"Connect: not protobuf", getStatusPath, false, connectProto(), []byte("\xff\xff\xff\xff"), "invalid_argument"},
		{"Connect: broken JSON", getStatusPath, false, withToken(readToken, map[string]string{"Content-Type": "application/json"}), []byte(`{"`), "invalid_argument"},
		{"Connect: unknown compression", getStatusPath, false, withToken(readToken, map[string]string{"Content-Type": "application/proto", "Content-Encoding": "br"}), []byte("x"), "unimplemented"},
		{"Connect stream: 4 GB envelope", watchPath, false, streamHeaders, grpcFrame(false, 0xffffffff, []byte("xx")), "resource_exhausted"},
		{"Connect stream: truncated envelope", watchPath, false, streamHeaders, []byte{0, 0, 0}, "protocol error: incomplete envelope"},
		{"gRPC: 4 GB frame", getStatusPath, true, grpc(), grpcFrame(false, 0xffffffff, []byte("xx")), strconv.Itoa(int(connect.CodeResourceExhausted))},
		{"gRPC: truncated frame", getStatusPath, true, grpc(), grpcFrame(false, 16, []byte("abc")), strconv.Itoa(int(connect.CodeInvalidArgument))},
		{"gRPC: compressed flag without an encoding", getStatusPath, true, grpc(), grpcFrame(true, 3, []byte("abc")), strconv.Itoa(int(connect.CodeInternal))},
		{"gRPC: not protobuf", getStatusPath, true, grpc(), grpcFrame(false, 4, []byte("\xff\xff\xff\xff")), strconv.Itoa(int(connect.CodeInvalidArgument))},
	}
	for _, c := range cases {
		a := send(t, base, c.path, c.grpc, c.headers, bytes.NewReader(c.body))
		got := a.body
		if c.grpc {
			got = a.grpcStatus
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: HTTP %d, grpc-status %q, body %q; want %q", c.name, a.status, a.grpcStatus, a.body, c.want)
		}
	}
}

// anonymousEndpoints: without a token /readyz gives the status and the
// health words only, /metrics nothing; a read token gets both in full.
func anonymousEndpoints(t *testing.T, base string) {
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz", ""); code != http.StatusOK || body != `{"status":"ready","store":"ok"}`+"\n" {
		t.Errorf("/readyz without a token: %d %q, want the status and the store's health only", code, body)
	}
	if code, body := get("/readyz", readToken); code != http.StatusOK || !strings.Contains(body, `"node":"hostile"`) || !strings.Contains(body, `"revision":`) {
		t.Errorf("/readyz with a read token: %d %q, want the node and revision", code, body)
	}
	if code, body := get("/metrics", ""); code != http.StatusUnauthorized || strings.Contains(body, "herald_") {
		t.Errorf("/metrics without a token: %d %q, want 401 and no series", code, body)
	}
	if code, body := get("/metrics", readToken); code != http.StatusOK || !strings.Contains(body, "herald_schedules_loaded 1") {
		t.Errorf("/metrics with a read token: %d, want 200 and the series", code)
	}
}
