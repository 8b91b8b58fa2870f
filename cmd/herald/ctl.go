package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
)

// Exit statuses of herald ctl beyond the binary's 0 (success), 1 (the
// operation failed) and 2 (wrong usage). Each names a kind of refusal so
// that scripts can branch on it without parsing messages; they are a
// contract, documented in the README.
const (
	exitAuth         = 3 // unauthenticated, or the token may not do this
	exitNotFound     = 4 // no such schedule or job
	exitPrecondition = 5 // the object's state does not allow the change
)

const (
	defaultServer     = "http://127.0.0.1:8080"
	defaultCtlTimeout = 10 * time.Second
	// proceed is what a step of a subcommand returns when the subcommand
	// should go on rather than exit with that status.
	proceed = -1
)

const ctlHelp = `Steers a running Herald node through its admin API: tables for people,
--json (the API's proto3 JSON) for scripts. The node is --server
(HERALD_SERVER); the bearer token is HERALD_TOKEN (or --token, which other
users can see in the process list). Flags may come before or after the
command.`

// ctlCommand is one subcommand of herald ctl.
type ctlCommand struct {
	name, synopsis, summary string
	run                     func(c *ctl, args []string) int
}

func ctlCommands() []ctlCommand {
	return []ctlCommand{
		{"status", "", "the node: version, configuration, last reload, health, accounts, nodes", runCtlStatus},
		{"nodes", "", "the nodes sharing the store: address, revision, heartbeat, health", runCtlNodes},
		{"schedules", "[--filter S] [--account A] [--paused] [--limit N]", "list the loaded schedules", runCtlSchedules},
		{"schedule", "ID [--next N] [--jobs N]", "one schedule: spec, pause, next fires, latest jobs", runCtlSchedule},
		{"pause", "ID [--note TEXT] [--until RFC3339|DURATION]", "skip a schedule's fires until resumed or --until", runCtlPause},
		{"resume", "ID", "end a schedule's pause", runCtlResume},
		{"trigger", "ID", "fire a schedule now, once", runCtlTrigger},
		{"jobs", "[--schedule ID] [--status S,...] [--from T] [--to T] [--limit N] [--all]", "list jobs by planned time", runCtlJobs},
		{"job", "ID", "one job and its event timeline", runCtlJob},
		{"cancel", "ID [--note TEXT]", "cancel a planned, retrying or dead job", runCtlCancel},
		{"retry", "ID [--note TEXT]", "send a dead job back to planned", runCtlRetry},
		{"dead", "[--schedule ID] [--limit N]", "list the dead letters", runCtlDead},
		{"watch", "[--schedule ID] [--after EVENT_ID]", "stream job transitions until interrupted", runCtlWatch},
		{"reload", "", "load, validate and apply the configuration", runCtlReload},
	}
}

// ctl holds what every subcommand shares: the process, the connection
// settings and, once the flags are parsed, the client.
type ctl struct {
	env     *cliEnv
	server  string
	token   string
	json    bool
	timeout time.Duration
	client  adminv1connect.AdminServiceClient
}

func runCtl(env *cliEnv, args []string) int {
	c := &ctl{env: env, server: defaultServer, timeout: defaultCtlTimeout}
	if s := env.getenv("HERALD_SERVER"); s != "" {
		c.server = s
	}
	c.token = env.getenv("HERALD_TOKEN")

	fs := newFlagSet("ctl", "[flags] COMMAND [flags] [ID]", ctlHelp+"\n\n"+ctlCommandList(), env.stderr)
	c.addCommonFlags(fs)
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return c.usageError(fs, "ctl needs a COMMAND")
	}
	for _, cmd := range ctlCommands() {
		if cmd.name == rest[0] {
			return cmd.run(c, rest[1:])
		}
	}
	return c.usageError(fs, "unknown command %q", rest[0])
}

func ctlCommandList() string {
	var b strings.Builder
	b.WriteString("Commands:\n")
	for _, cmd := range ctlCommands() {
		fmt.Fprintf(&b, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	b.WriteString("\nExit status: 0 success; 1 the operation failed (server error, unreachable,\n" +
		"a rejected reload); 2 wrong usage (also a request the server calls invalid);\n" +
		"3 unauthenticated or permission denied; 4 not found; 5 failed precondition\n" +
		"(a transition the object's state does not allow).")
	return b.String()
}

// addCommonFlags registers the connection flags. They write straight into
// c without resetting it, so that values from the environment, or from
// flags given before the command, survive a second flag set's creation.
func (c *ctl) addCommonFlags(fs *flag.FlagSet) {
	fs.Func("server", "admin API base `URL` (HERALD_SERVER; default "+defaultServer+")", func(s string) error {
		c.server = s
		return nil
	})
	fs.Func("token", "bearer `TOKEN` (prefer HERALD_TOKEN: flags show in the process list)", func(s string) error {
		c.token = s
		return nil
	})
	fs.BoolFunc("json", "print the response as proto3 JSON (watch: one object per line)", func(s string) error {
		v, err := strconv.ParseBool(s)
		c.json = v
		return err
	})
	fs.Func("timeout", "time limit of each request, a `DURATION` (default 10s; watch has none)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return errors.New("want a positive duration like 30s")
		}
		c.timeout = d
		return nil
	})
}

// flagSet returns the flag set of subcommand name, with the common flags.
func (c *ctl) flagSet(name, help string) *flag.FlagSet {
	synopsis := ""
	for _, cmd := range ctlCommands() {
		if cmd.name == name {
			synopsis = cmd.synopsis
		}
	}
	fs := newFlagSet("ctl "+name, synopsis, help, c.env.stderr)
	c.addCommonFlags(fs)
	return fs
}

// start parses a subcommand's arguments, which must be exactly the
// positional arguments named in want, and connects the client. It returns
// the positional arguments and proceed, or an exit status.
func (c *ctl) start(fs *flag.FlagSet, args []string, want ...string) ([]string, int) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, parseStatus(err)
	}
	name := strings.TrimPrefix(fs.Name(), "herald ctl ")
	if len(pos) < len(want) {
		return nil, c.usageError(fs, "%s needs %s", name, strings.Join(want[len(pos):], " "))
	}
	if len(pos) > len(want) {
		return nil, c.usageError(fs, "unexpected argument %q", pos[len(want)])
	}
	base, err := serverURL(c.server)
	if err != nil {
		return nil, c.usageError(fs, "%v", err)
	}
	var opts []connect.ClientOption
	if c.token != "" {
		opts = append(opts, connect.WithInterceptors(bearer{c.token}))
	}
	// No client timeout: unary calls get --timeout through their context,
	// and watch streams for as long as it is left running.
	c.client = adminv1connect.NewAdminServiceClient(&http.Client{}, base, opts...)
	return pos, proceed
}

// serverURL checks --server and accepts a bare HOST:PORT (as `herald serve`
// logs its listen address) as http://HOST:PORT.
func serverURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--server %q: want http://HOST:PORT or https://HOST", redactURL(s))
	}
	if u.User != nil {
		return "", fmt.Errorf("--server %q: put the token in HERALD_TOKEN, not in the URL", redactURL(s))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// redactURL hides a password a user might have put in a URL.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("REDACTED")
		return u.String()
	}
	return s
}

// parseID parses a job id.
func (c *ctl) parseID(fs *flag.FlagSet, s string) (int64, int) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, c.usageError(fs, "job ID %q: want a positive integer", s)
	}
	return id, proceed
}

// usageError prints a usage problem as one line and a pointer to --help.
func (c *ctl) usageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(c.env.stderr, "herald ctl: "+format+"\n", args...)
	fmt.Fprintf(c.env.stderr, "Run '%s --help' for usage.\n", fs.Name())
	return exitUsage
}

// ctx bounds one request by --timeout.
func (c *ctl) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// pages fetches a listing page by page: fetch is called with each page's
// token in turn (first the empty one) and returns the next page's token. It
// stops after the first page unless all, at the last page, or when the
// server answers the same token again (rather than loop for ever), and
// returns the token of the next page left unread, empty when none is.
func (c *ctl) pages(all bool, fetch func(ctx context.Context, token string) (next string, err error)) (string, error) {
	token := ""
	for {
		ctx, cancel := c.ctx()
		next, err := fetch(ctx, token)
		cancel()
		if err != nil || !all || next == "" || next == token {
			return next, err
		}
		token = next
	}
}

// fail reports a failed call as one line on stderr and returns the exit
// status of its code.
func (c *ctl) fail(err error) int {
	code := connect.CodeOf(err)
	msg := err.Error()
	var ce *connect.Error
	if errors.As(err, &ce) {
		msg = ce.Message()
	}
	line := strings.ReplaceAll(code.String(), "_", " ")
	if msg != "" {
		line += ": " + msg
	}
	switch {
	case code == connect.CodeUnauthenticated && c.token == "":
		line += " (set HERALD_TOKEN or --token)"
	case code == connect.CodeUnimplemented:
		line += " (is " + c.server + " a Herald node?)"
	}
	c.errorf("%s", line)
	return exitFor(code)
}

// errorf prints one line on stderr, never with the token in it, whatever
// a server or a transport error echoed back.
func (c *ctl) errorf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if c.token != "" {
		line = strings.ReplaceAll(line, c.token, "REDACTED")
	}
	fmt.Fprintf(c.env.stderr, "herald ctl: %s\n", line)
}

// exitFor maps a Connect code to herald ctl's exit status.
func exitFor(code connect.Code) int {
	switch code {
	case connect.CodeUnauthenticated, connect.CodePermissionDenied:
		return exitAuth
	case connect.CodeNotFound:
		return exitNotFound
	case connect.CodeFailedPrecondition:
		return exitPrecondition
	case connect.CodeInvalidArgument:
		return exitUsage
	}
	return exitCheck
}

// print writes a response: its proto3 JSON with --json, else the table
// that render writes into an aligning writer.
func (c *ctl) print(m proto.Message, render func(w io.Writer)) int {
	if c.json {
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
		if err != nil {
			c.errorf("encoding the response: %v", err)
			return exitCheck
		}
		if _, err := c.env.stdout.Write(append(b, '\n')); err != nil {
			return exitCheck
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(c.env.stdout, 0, 0, 2, ' ', 0)
	render(tw)
	if err := tw.Flush(); err != nil {
		return exitCheck
	}
	return exitOK
}

// bearer puts the token on every request, unary or streaming. It is a
// struct so that printing it by mistake shows no token.
type bearer struct{ token string }

func (b bearer) String() string { return "bearer(REDACTED)" }

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", "Bearer "+b.token)
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", "Bearer "+b.token)
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
