// Package browsertest drives a real headless Chromium (Debian's
// /usr/bin/chromium, through chromedp) for the dashboard's tests: the page
// is tested as a person uses it, clicks and all, against a fake API in
// package dashboard and against the real `herald serve` in cmd/herald.
//
// Every wait has a generous deadline and ends as soon as the page shows
// what it waits for: nothing here sleeps. A tab fails its test when the
// page throws an uncaught exception or breaks its Content Security Policy,
// and saves a screenshot into the test's artifact directory when the test
// fails (kept with `go test -artifacts`).
//
// It is for tests only and imports nothing of Herald's.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser;
// .ci/run installs it when it is missing.
const ChromiumPath = "/usr/bin/chromium"

// Timeout bounds one step (a navigation, a wait, a click): long, because
// the CI machine is a loaded 2-core box; a passing step takes far less.
const Timeout = 45 * time.Second

// Browser is one Chromium process; each test or subtest gets its own tab.
type Browser struct {
	ctx context.Context
}

// Start launches Chromium for the test and stops it at the test's end.
// Without Chromium the test is skipped, unless CI=true: there a missing
// browser is a broken machine and fails the test.
func Start(t *testing.T) *Browser {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser test: %s is missing (apt-get install -y chromium; .ci/run does it)", ChromiumPath)
		}
		t.Skipf("browser test skipped: %s is missing (apt-get install -y chromium)", ChromiumPath)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser; it must not carry a timeout (that
	// would stop the browser with it), so a watchdog bounds it instead.
	if err := within(func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("starting %s: %v", ChromiumPath, err)
	}
	return &Browser{ctx: ctx}
}

// Tab is one browser tab bound to a test.
type Tab struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string // uncaught exceptions, CSP violations
	console  []string // everything else the page logged, for a failure
}

// Tab opens a fresh tab (its own session storage) for the test and closes
// it at the test's end.
func (b *Browser) Tab(t *testing.T) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	p := &Tab{t: t, ctx: ctx}
	if err := within(func() error { return chromedp.Do(ctx) }); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	var wg sync.WaitGroup
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	entries := chromedp.Events(ctx, log.EntryAdded)
	calls := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	wg.Go(func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			p.note(true, "uncaught exception: "+exceptionText(ev.ExceptionDetails))
		}
	})
	wg.Go(func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			e := ev.Entry
			p.note(strings.Contains(e.Text, "Content Security Policy"), fmt.Sprintf("%s %s: %s %s", e.Source, e.Level, e.Text, e.URL))
		}
	})
	wg.Go(func() {
		for ev, err := range calls {
			if err != nil {
				return
			}
			args := make([]string, 0, len(ev.Args))
			for _, a := range ev.Args {
				if a.Description != "" {
					args = append(args, a.Description)
				} else {
					args = append(args, string(a.Value))
				}
			}
			p.note(false, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	})
	t.Cleanup(func() {
		p.mu.Lock()
		problems, console := p.problems, p.console
		p.mu.Unlock()
		for _, pr := range problems {
			t.Errorf("the page: %s", pr)
		}
		if t.Failed() {
			for _, c := range console {
				t.Logf("the page logged: %s", c)
			}
			p.screenshot()
		}
		cancel()
		wg.Wait()
	})
	return p
}

// within runs f, which must not have a deadline of its own, and gives up
// waiting after Timeout.
func within(f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(Timeout):
		return fmt.Errorf("no answer from the browser after %v", Timeout)
	}
}

func (p *Tab) note(problem bool, s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if problem {
		p.problems = append(p.problems, s)
	} else {
		p.console = append(p.console, s)
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "?"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", s, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

// screenshot saves the whole page as a PNG in the test's artifact
// directory.
func (p *Tab) screenshot() {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		p.t.Logf("no screenshot: %v", err)
		return
	}
	path := filepath.Join(p.t.ArtifactDir(), "page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Logf("no screenshot: %v", err)
		return
	}
	p.t.Logf("screenshot of the page: %s (kept with go test -artifacts)", path)
}

// Do runs the steps in order, within Timeout, and fails the test with
// what when one fails.
func (p *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression and returns its value.
func Eval[T any](p *Tab, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// Text is the text content of the first element matching the CSS
// selector, once it exists.
func (p *Tab) Text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("reading the text of %s: %v", sel, err)
	}
	return s
}

// WaitText waits until the first element matching the CSS selector exists
// and its text contains want.
func (p *Tab) WaitText(sel, want string) {
	p.t.Helper()
	p.WaitJS(fmt.Sprintf("(document.querySelector(%s)?.textContent ?? '').includes(%s)", jsString(sel), jsString(want)),
		fmt.Sprintf("%s to show %q", sel, want))
}

// WaitJS waits until the JavaScript expression is truthy.
func (p *Tab) WaitJS(expr, what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(Timeout))); err != nil {
		p.t.Fatalf("waiting for %s: %v (it shows %q)", what, err, p.bodyText())
	}
}

// bodyText is what the page shows, for a failure message (cut short).
func (p *Tab) bodyText() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		return "?"
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Row is a CSS selector for the table row with the data-testid and
// data-id given, for example Row("schedule-row", "every-second").
func Row(testid, id string) string {
	return fmt.Sprintf(`tr[data-testid=%q][data-id=%q]`, testid, id)
}

// ClearInput empties a text field as a person would (chromedp.Clear only
// resets the value attribute, not what was typed), and tells the page.
func ClearInput(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const el = document.querySelector(%s); el.value = ""; el.dispatchEvent(new Event("input", {bubbles: true})); })()`,
		jsString(sel)))
}
