package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/herald-social/herald/internal/backoff"
	"github.com/herald-social/herald/store"
)

// deadLetterCursorKey is the store state that remembers the last event the
// dead-letter webhook has seen. It lives in the store, not in memory, so
// that a restart neither repeats nor skips notifications, and so that the
// nodes of a cluster share it (a compare-and-swap advances it).
const deadLetterCursorKey = "dead_letter_webhook/cursor"

// DeadLetter is the JSON body POSTed to the dead-letter webhook, once per
// job that goes dead (a contract: receivers parse it). The request carries
// the header Idempotency-Key (the same for a redelivery of one event) and,
// when a secret is configured, X-Herald-Timestamp: UNIX-SECONDS and
// X-Herald-Signature: sha256=HEX, the HMAC-SHA256 of "TIMESTAMP.BODY"
// (see VerifyDeadLetter). Redirects are not followed.
type DeadLetter struct {
	Event      string    `json:"event"` // always "dead_letter"
	EventID    int64     `json:"event_id"`
	JobID      int64     `json:"job_id"`
	ScheduleID string    `json:"schedule_id"`
	PlannedAt  time.Time `json:"planned_at"`
	At         time.Time `json:"at"`
	Reason     string    `json:"reason"`
	Error      string    `json:"error"`
	Attempt    int       `json:"attempt"`
	Node       string    `json:"node"`
	PostIDs    []string  `json:"post_ids,omitempty"`
}

// deadLetterNotifier calls the webhook for each new dead letter, at least
// once: it follows the store's event log from a durable cursor and
// advances the cursor only after the webhook answered 2xx. A receiver that
// is down delays the notifications, never loses them.
// webhookBackoff paces redeliveries to a failing receiver: from a second to
// a minute.
var webhookBackoff = backoff.Policy{Base: time.Second, Max: time.Minute}

type deadLetterNotifier struct {
	rt     *Runtime
	url    string
	shown  string // url without what may be a secret, for logs and errors
	secret []byte
	client *http.Client
	now    func() time.Time // signs the timestamp
	wake   chan struct{}
}

func newDeadLetterNotifier(rt *Runtime) *deadLetterNotifier {
	return &deadLetterNotifier{rt: rt, url: rt.opts.DeadLetterWebhook, shown: RedactURL(rt.opts.DeadLetterWebhook),
		secret: []byte(rt.opts.DeadLetterSecret), client: noRedirects(rt.opts.WebhookClient), now: rt.opts.Clock.Now,
		wake: make(chan struct{}, 1)}
}

// noRedirects is c (or a client with a 10s timeout) that follows no
// redirect: a 3xx is a failure to deliver, so that a receiver cannot send
// the signed body, nor the URL's secret, to another address.
func noRedirects(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// poke makes the notifier look now (a job just went dead).
func (n *deadLetterNotifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *deadLetterNotifier) run(ctx context.Context) {
	rt := n.rt
	// A fresh cursor starts at this moment: enabling the webhook does not
	// replay every dead letter of the past.
	since := rt.opts.Clock.Now()
	for ctx.Err() == nil {
		caughtUp, err := n.step(ctx, since)
		if err != nil && ctx.Err() == nil {
			rt.logger.Warn("dead-letter webhook: will try again", slog.String("error", err.Error()))
		}
		if (caughtUp || err != nil) && !sleepOrWake(ctx, rt.opts.Clock, rt.opts.DispatchInterval*5, n.wake) {
			return
		}
	}
}

// step delivers one page of events after the cursor and advances it. It
// reports whether the log is read to its end.
func (n *deadLetterNotifier) step(ctx context.Context, since time.Time) (bool, error) {
	rt := n.rt
	const page = 500
	cursor, version, err := n.cursor(ctx)
	if err != nil {
		return false, err
	}
	events, err := rt.opts.Store.ListEvents(ctx, store.ListEventsParams{AfterID: cursor, Limit: page})
	if err != nil {
		return false, fmt.Errorf("reading events: %w", err)
	}
	if len(events) == 0 {
		return true, nil
	}
	for _, e := range events {
		if e.To != store.StatusDead || (version == 0 && e.At.Before(since)) {
			continue
		}
		if err := n.deliverWithRetry(ctx, e); err != nil {
			// Keep what was delivered before this one.
			if e.ID-1 > cursor {
				_ = n.save(ctx, e.ID-1, version)
			}
			return false, err
		}
	}
	if err := n.save(ctx, events[len(events)-1].ID, version); err != nil {
		return false, err
	}
	return len(events) < page, nil
}

func (n *deadLetterNotifier) cursor(ctx context.Context) (int64, int64, error) {
	st, err := n.rt.opts.Store.GetState(ctx, deadLetterCursorKey)
	if errors.Is(err, store.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reading the cursor: %w", err)
	}
	id, err := strconv.ParseInt(string(st.Value), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("the stored cursor %q is not an event id: %w", st.Value, err)
	}
	return id, st.Version, nil
}

// save advances the cursor; a conflict means another node advanced it,
// which is fine: the next step reads theirs.
func (n *deadLetterNotifier) save(ctx context.Context, id, version int64) error {
	_, err := n.rt.opts.Store.PutState(ctx, store.PutStateParams{Key: deadLetterCursorKey, Value: []byte(strconv.FormatInt(id, 10)), Version: version, Now: n.rt.opts.Clock.Now()})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// deliverWithRetry posts one dead letter until the receiver takes it, with
// capped exponential backoff, or ctx ends.
func (n *deadLetterNotifier) deliverWithRetry(ctx context.Context, e store.Event) error {
	rt := n.rt
	job, err := rt.opts.Store.GetJob(ctx, e.JobID)
	if errors.Is(err, store.ErrNotFound) {
		// Pruned by retention after its events were read (a dead letter
		// older than --retain-dead, or one handled long ago): there is
		// nothing left to tell, and retrying would stop the webhook for
		// good.
		rt.logger.Info("dead-letter webhook skipped a pruned job", slog.Int64("job_id", e.JobID), slog.Int64("event_id", e.ID))
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading job %d: %w", e.JobID, err)
	}
	body, err := json.Marshal(DeadLetter{
		Event: "dead_letter", EventID: e.ID, JobID: job.ID, ScheduleID: job.ScheduleID, PlannedAt: job.PlannedAt.UTC(),
		At: e.At.UTC(), Reason: job.DeadReason, Error: job.LastError, Attempt: e.Attempt, Node: e.Node, PostIDs: job.PostIDs,
	})
	if err != nil {
		return err
	}
	for try := 0; ; try++ {
		err := n.deliver(ctx, e.ID, body)
		if err == nil {
			rt.logger.Info("dead-letter webhook delivered", slog.Int64("job_id", job.ID), slog.String("schedule_id", job.ScheduleID), slog.Int64("event_id", e.ID))
			return nil
		}
		rt.logger.Warn("dead-letter webhook failed", slog.Int64("job_id", job.ID), slog.Int("try", try+1), slog.String("error", err.Error()))
		if !sleep(ctx, rt.opts.Clock, webhookBackoff.Ceiling(try+1)) {
			return ctx.Err()
		}
	}
}

func (n *deadLetterNotifier) deliver(ctx context.Context, eventID int64, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: the URL does not parse", n.shown) // err would quote it
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "herald")
	req.Header.Set("Idempotency-Key", "herald-dead-letter-"+strconv.FormatInt(eventID, 10))
	if len(n.secret) > 0 {
		ts := strconv.FormatInt(n.now().Unix(), 10) // each try signs anew
		req.Header.Set("X-Herald-Timestamp", ts)
		req.Header.Set("X-Herald-Signature", signDeadLetter(n.secret, ts, body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			ue.URL = n.shown
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 3:
		return fmt.Errorf("webhook %s answered %s; redirects are not followed: configure the final URL", n.shown, resp.Status)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("webhook %s answered %s", n.shown, resp.Status)
	}
	return nil
}
