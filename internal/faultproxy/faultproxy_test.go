package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func newProxy(t *testing.T) *Proxy {
	t.Helper()
	p, err := New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// hangGuard bounds a read that must succeed: generous, since it only
// stops a broken proxy from hanging the test.
const hangGuard = 20 * time.Second

// echo writes line and reads it back within d.
func echo(c net.Conn, line string, d time.Duration) (string, error) {
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	got, err := bufio.NewReader(c).ReadString('\n')
	return got, err
}

// dialAndEcho dials the proxy and echoes a line: the error of the dial
// (a reset may reach the client while it connects) or of the echo.
func dialAndEcho(p *Proxy) error {
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = echo(c, "x", hangGuard)
	return err
}

func mustEcho(t *testing.T, c net.Conn, line string) {
	t.Helper()
	got, err := echo(c, line, hangGuard)
	if err != nil || got != line+"\n" {
		t.Fatalf("echo %q: got %q, %v", line, got, err)
	}
}

func TestForwards(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	c := dial(t, p)
	mustEcho(t, c, "hello")
	mustEcho(t, c, "again")
	n := p.Counts()
	if n.Accepted != 1 || n.Forwarded != 1 || n.Open != 1 || n.BytesUp != 12 || n.BytesDown != 12 {
		t.Errorf("counts %+v, want 1 accepted, forwarded and open, 12 bytes each way", n)
	}
	if p.Mode() != Forward {
		t.Errorf("mode %s, want forward", p.Mode())
	}
}

// A cut fails clients fast: the open connection errs, not times out, and
// a new one is reset as soon as it is accepted.
func TestCutResetsOpenAndNewConnections(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	old := dial(t, p)
	mustEcho(t, old, "before")
	p.Cut()
	if _, err := echo(old, "during", hangGuard); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("an open connection after Cut: %v, want a reset or EOF", err)
	}
	if err := dialAndEcho(p); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a new connection during Cut: %v, want a reset or EOF", err)
	}
	p.Restore()
	mustEcho(t, dial(t, p), "after")
	if n := p.Counts(); n.Reset < 2 || n.Forwarded != 2 {
		t.Errorf("counts %+v, want at least 2 reset and 2 forwarded", n)
	}
}

// A blackhole makes clients wait; what they sent arrives after Restore.
func TestBlackholeHoldsUntilRestore(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	old := dial(t, p)
	mustEcho(t, old, "before")
	p.Blackhole()
	// The deadline is the client's timeout: the echo never comes while
	// blackholed, however slow the machine, so this cannot pass by luck.
	if _, err := echo(old, "held", 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an open connection during Blackhole: %v, want a timeout", err)
	}
	fresh := dial(t, p)
	if _, err := echo(fresh, "waiting", 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a new connection during Blackhole: %v, want a timeout", err)
	}
	waitCounts(t, p, "1 held and 1 forwarded", func(n Counts) bool { return n.Held == 1 && n.Forwarded == 1 })
	p.Restore()
	for _, c := range []struct {
		conn net.Conn
		want string
	}{{old, "held\n"}, {fresh, "waiting\n"}} {
		_ = c.conn.SetReadDeadline(time.Now().Add(hangGuard))
		got, err := bufio.NewReader(c.conn).ReadString('\n')
		if err != nil || got != c.want {
			t.Errorf("after Restore: got %q, %v, want %q", got, err, c.want)
		}
	}
}

// A cut during a blackhole resets the connections the blackhole held.
func TestCutAfterBlackholeResetsHeldConnections(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	p.Blackhole()
	c := dial(t, p)
	if _, err := c.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	_ = c.SetReadDeadline(time.Now().Add(hangGuard))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a held connection after Cut: %v, want a reset or EOF", err)
	}
}

func TestTargetDownIsAFastFailure(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln.Close() // after New, which could otherwise take the freed port
	if err := dialAndEcho(p); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a connection through a proxy to nothing: %v, want a reset or EOF", err)
	}
	waitCounts(t, p, "1 dial failure", func(n Counts) bool { return n.DialFails == 1 })
}

func TestCloseTwiceAndModeNames(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	p.Blackhole()
	dial(t, p)
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for m, want := range map[Mode]string{Forward: "forward", Cutting: "cut", Blackholing: "blackhole", Mode(9): "Mode(9)"} {
		if m.String() != want {
			t.Errorf("%d: %q, want %q", int(m), m.String(), want)
		}
	}
}

// waitCounts waits until the counters satisfy cond: the proxy counts in
// its own goroutines, a moment after the client's call returns.
func waitCounts(t *testing.T, p *Proxy, want string, cond func(Counts) bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond(p.Counts()) {
		if time.Now().After(deadline) {
			t.Fatalf("counts %+v, want %s", p.Counts(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
