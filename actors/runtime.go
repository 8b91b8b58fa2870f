package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// Options configure a Runtime. Zero durations and sizes take the defaults
// noted.
type Options struct {
	Store    store.Store
	Platform platform.Platform
	Clock    clock.Clock // default clock.Real()
	// Timers is what schedule actors arm their timers on: by default a
	// clock.Heap over Clock, so that a million schedules cost the Go
	// runtime one timer (see clock.Heap for why that matters).
	Timers clock.Clock
	Logger *slog.Logger // default: discard
	Node   string       // this node's id, recorded in events and leases (required)

	Publishers       int           // publisher pool size, default 8
	Supervisors      int           // supervisors sharing the schedule actors, default one per core (see supervisorShards)
	BatchSize        int           // largest store batch, default 2000: a second's burst of fires at 100,000 schedules a minute (1,667) fits one
	Lease            time.Duration // a running job's lease, default 1m; renewed every Lease/4 while held
	LeaseMargin      time.Duration // kept between a request's end and its lease's expiry (clock skew between nodes), default DefaultLeaseMargin
	LookupTimeout    time.Duration // one metrics lookup, default 30s
	DispatchInterval time.Duration // how often the claimer and dispatcher look for work of other nodes, default 1s
	// ReconcileFirstCheck is how long after an ambiguous publish
	// reconciliation first reads the account's posts, default 2s;
	// ReconcileInterval how long it waits between checks of a job not
	// settled, default 10s (the platform says when "not found" is proof).
	ReconcileFirstCheck time.Duration
	ReconcileInterval   time.Duration
	MaxAttempts         int           // attempts before a transient failure is dead, default 5
	RetryBase           time.Duration // first backoff cap, default 1s
	RetryMax            time.Duration // largest backoff, default 5m
	MetricsPoll         time.Duration // how often a metrics actor looks for tasks other nodes created, default 1m

	// DeadLetterWebhook, when set, is POSTed a DeadLetter for each job
	// that goes dead; DeadLetterSecret, when set, signs each body.
	DeadLetterWebhook string
	DeadLetterSecret  string
	WebhookClient     *http.Client // default: a client with a 10s timeout; redirects are never followed

	// Observer hears fires, transitions, publishes and restarts, for
	// metrics; default: observes nothing.
	Observer Observer

	// FireLocks, when set, lets one node of a cluster write each fire
	// (see FireLocks); nil: this node writes every fire it fires.
	FireLocks FireLocks
	// MaxHeldFires bounds the fires held in memory while the store does
	// not answer, default DefaultMaxHeldFires (see held).
	MaxHeldFires int

	// EagerActors spawns every schedule's actor at Apply and keeps it,
	// instead of leaving the schedules with nothing to catch up dormant
	// until their first fire and handing rarely firing ones back after each
	// fire (see supervisor). Benchmarks use it to measure the actors
	// themselves.
	EagerActors bool
}

// DefaultLeaseMargin is what another node's clock may be ahead of ours: a
// request is sent only if it ends that long before its job's lease.
const DefaultLeaseMargin = 5 * time.Second

func (o *Options) setDefaults() error {
	if o.Store == nil || o.Platform == nil || o.Node == "" {
		return errors.New("actors: Store, Platform and Node are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Timers == nil {
		o.Timers = clock.NewHeap(o.Clock)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	defInt(&o.Publishers, 8)
	defInt(&o.Supervisors, supervisorShards())
	defInt(&o.BatchSize, 2000)
	defInt(&o.MaxAttempts, 5)
	defInt(&o.MaxHeldFires, DefaultMaxHeldFires)
	def(&o.Lease, time.Minute)
	def(&o.LeaseMargin, DefaultLeaseMargin)
	def(&o.LookupTimeout, 30*time.Second)
	def(&o.DispatchInterval, time.Second)
	def(&o.ReconcileFirstCheck, 2*time.Second)
	def(&o.ReconcileInterval, 10*time.Second)
	def(&o.RetryBase, time.Second)
	def(&o.RetryMax, 5*time.Minute)
	def(&o.MetricsPoll, time.Minute)
	return nil
}

// Runtime is the actor system of one node: supervisor, schedule actors,
// recorder, publisher pool and dispatcher. Start it once, give it
// configurations with Apply, and Stop it once (a second Stop is a no-op).
type Runtime struct {
	opts     Options
	logger   *slog.Logger
	platform platform.Platform
	system   *actor.ActorSystem

	// supervisors each own the schedule actors of one shard of the
	// schedule ids (see Apply).
	supervisors []*actor.PID
	// scheduleProps spawns every schedule actor: one shared value, not one
	// per child (a Props and its producer closure cost about 230 B each, a
	// sixth of an idle actor). A new actor gets its schedule in an
	// initSchedule message right after the spawn, and again after a restart.
	scheduleProps *actor.Props
	// mailboxes runs the schedule actors' turns (see mailboxPool).
	mailboxes *mailboxPool
	// pool publishes claimed jobs; claimer claims them as it has room;
	// leases fences and renews what this node holds.
	pool     *pool
	claimer  *claimer
	leases   *leases
	recorder *recorder
	outcomes *batcher[store.TransitionParams, store.TransitionResult]
	// config is the configuration publishers render posts from: an
	// immutable snapshot swapped whole by Apply, so a publisher never sees a
	// half-applied one and needs no message to learn of it.
	config atomic.Pointer[schedules.Config]
	// pauses are the schedules an operator paused (see SetPauses).
	pauses atomic.Pointer[map[string]store.Pause]

	// accepting ends when Stop begins: no new claims. inflight ends when
	// the grace period is over: publishes still running are abandoned
	// (their leases are released). writes ends last.
	accepting, inflight, writes              context.Context
	stopAccepting, stopInflight, stopWrites  context.CancelFunc
	dispatcherDone, claimerDone, renewerDone chan struct{}
	stopOnce                                 sync.Once

	// metrics holds the metrics actor of each account that has had tasks.
	metricsMu sync.Mutex
	metrics   map[string]*actor.PID
	// notifier calls the dead-letter webhook; nil without one.
	notifier     *deadLetterNotifier
	notifierDone chan struct{}
}

// New returns a Runtime; nothing runs until Start.
func New(opts Options) (*Runtime, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	rt := &Runtime{opts: opts, logger: opts.Logger, platform: opts.Platform, dispatcherDone: make(chan struct{}),
		claimerDone: make(chan struct{}), renewerDone: make(chan struct{}),
		metrics: map[string]*actor.PID{}, notifierDone: make(chan struct{})}
	if opts.Lease <= 2*opts.LeaseMargin {
		return nil, fmt.Errorf("actors: a lease of %s leaves no time to publish with a margin of %s", opts.Lease, opts.LeaseMargin)
	}
	return rt, nil
}

// Start spawns the actors and the batching and dispatching loops.
func (rt *Runtime) Start(ctx context.Context) error {
	logger := rt.logger.With(slog.String("component", "protoactor"))
	rt.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }))
	rt.accepting, rt.stopAccepting = context.WithCancel(context.WithoutCancel(ctx))
	rt.inflight, rt.stopInflight = context.WithCancel(context.WithoutCancel(ctx))
	rt.writes, rt.stopWrites = context.WithCancel(context.WithoutCancel(ctx))

	rt.leases = newLeases(rt)
	rt.pool = newPool(rt)
	rt.claimer = newClaimer(rt)
	rt.recorder = newRecorder(rt)
	rt.recorder.start(rt.writes)
	rt.outcomes = newBatcher(rt.opts.BatchSize, transitionBatch(rt))
	rt.outcomes.start(rt.writes)

	root := rt.system.Root
	pub := &publisher{rt: rt}
	rt.pool.start(pub.publish, func(job store.Job, waited time.Duration) {
		pub.giveBack(job, fmt.Sprintf("given back: waited %s in the queue of node %s, whose publishers are busy", waited.Round(time.Millisecond), rt.opts.Node))
	})
	// Two workers per core: a worker may wait a moment handing a fire to a
	// full recorder queue, and the others go on meanwhile.
	rt.mailboxes = newMailboxPool(2*runtime.GOMAXPROCS(0), 1<<16, mailboxThroughput)
	rt.scheduleProps = actor.PropsFromProducer(func() actor.Actor { return &scheduleActor{rt: rt} },
		actor.WithDispatcher(rt.mailboxes))
	for k := range rt.opts.Supervisors {
		// One supervisor value per shard: its restart (which protoactor
		// would do after a panic in its Receive) keeps its children's
		// bookkeeping.
		supState := &supervisor{rt: rt, children: map[string]*child{}, byPID: map[string]string{}}
		sup := actor.PropsFromProducer(func() actor.Actor { return supState },
			actor.WithSupervisor(newRestartStrategy(supState)))
		pid, err := root.SpawnNamed(sup, fmt.Sprintf("supervisor-%d", k))
		if err != nil {
			return fmt.Errorf("actors: spawning a supervisor: %w", err)
		}
		rt.supervisors = append(rt.supervisors, pid)
	}

	// Leases this node holds from before a crash cannot have a publish in
	// flight: this process just started. Ending them now lets the
	// dispatcher take those jobs over at once instead of when the lease
	// runs out. (Node ids must therefore be unique among running nodes.)
	released, err := rt.opts.Store.ReleaseLeases(ctx, store.ReleaseLeasesParams{Node: rt.opts.Node, Now: rt.opts.Clock.Now()})
	if err != nil {
		return fmt.Errorf("actors: releasing this node's leases from before: %w", err)
	}
	if len(released) > 0 {
		rt.logger.Warn("taking over jobs this node was running when it stopped", slog.Int("jobs", len(released)))
	}

	go func() {
		defer close(rt.dispatcherDone)
		(&dispatcher{rt: rt}).run(rt.accepting)
	}()
	go func() {
		defer close(rt.claimerDone)
		rt.claimer.run(rt.accepting)
	}()
	go func() {
		defer close(rt.renewerDone)
		rt.leases.run(rt.writes)
	}()
	if err := rt.startMetrics(ctx); err != nil {
		return fmt.Errorf("actors: finding pending metrics tasks: %w", err)
	}
	if rt.opts.DeadLetterWebhook != "" {
		rt.notifier = newDeadLetterNotifier(rt)
		go func() {
			defer close(rt.notifierDone)
			rt.notifier.run(rt.accepting)
		}()
	} else {
		close(rt.notifierDone)
	}
	return nil
}

// afterChange follows up a recorded outcome: it wakes the account's
// metrics actor for new capture tasks, the dead-letter webhook for a new
// dead letter, and the claimer at a retry's due time.
func (rt *Runtime) afterChange(c store.Change, tp store.TransitionParams) {
	if len(tp.MetricsTasks) > 0 {
		first := tp.MetricsTasks[0].DueAt
		for _, t := range tp.MetricsTasks[1:] {
			if t.DueAt.Before(first) {
				first = t.DueAt
			}
		}
		rt.wakeMetrics(tp.MetricsTasks[0].Account, first)
	}
	if c.Event.To == store.StatusDead && rt.notifier != nil {
		rt.notifier.poke()
	}
	if c.Event.To == store.StatusRetrying {
		// This node knows when the retry is due: no need to wait for the
		// claimer's periodic look.
		rt.claimer.wakeAt(c.Job.DueAt)
	}
}

// supervisorShards is how many supervisors share the schedule actors by
// default: one per core. Why more than one: spawning is the supervisor's
// work, one actor at a time, and with a single supervisor a
// million-schedule start-up spent 13 s in Apply, its supervisor busy on
// one core throughout while the other ran the actors' first messages and
// the collector. Shards spawn in parallel and keep smaller maps. More
// shards than cores did not help (1M schedules on 2 cores, one run each on
// a shared machine: 16.3 CPU-seconds with 2 shards, 18.1 with 4, 30 with
// 16).
func supervisorShards() int { return max(1, runtime.GOMAXPROCS(0)) }

// mailboxThroughput is protoactor's default: the messages a mailbox handles
// before it yields its worker.
const mailboxThroughput = 300

// shardOf is the supervisor shard, of n, of a schedule id (FNV-1a,
// inlined: it runs for every schedule of every Apply).
func shardOf(id string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// Apply hands a validated configuration to the supervisors (each its shard
// of the schedules, diffed by id and spec hash) and waits until every one
// has spawned, updated and stopped what changed. last holds the latest
// recorded fire of (at least) each starting schedule, for catch-up, as
// store.LatestFires returns it: entries of other schedules are ignored.
func (rt *Runtime) Apply(ctx context.Context, cfg *schedules.Config, last map[string]store.Fire, correlationID string) (ApplyResult, error) {
	rt.config.Store(cfg)
	timeout := 10 * time.Minute // spawning a million actors takes seconds
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	parts := make([][]*schedules.Schedule, len(rt.supervisors))
	for k := range parts {
		parts[k] = make([]*schedules.Schedule, 0, len(cfg.Schedules)/len(parts)+len(cfg.Schedules)/(4*len(parts))+1)
	}
	for _, s := range cfg.Schedules {
		k := shardOf(s.ID, len(parts))
		parts[k] = append(parts[k], s)
	}
	futures := make([]*actor.Future, len(rt.supervisors))
	for k, pid := range rt.supervisors {
		futures[k] = rt.system.Root.RequestFuture(pid, &applyShard{schedules: parts[k], last: last}, timeout)
	}
	var total ApplyResult
	var errs []error
	for _, f := range futures {
		res, err := f.Result()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r := res.(*ApplyResult)
		total.Added += r.Added
		total.Removed += r.Removed
		total.Changed += r.Changed
		total.Unchanged += r.Unchanged
	}
	if err := errors.Join(errs...); err != nil {
		return total, fmt.Errorf("actors: applying configuration %s: %w", correlationID, err)
	}
	return total, nil
}

// currentConfig is the configuration last applied (nil before the first).
func (rt *Runtime) currentConfig() *schedules.Config { return rt.config.Load() }

// revision is the revision of the configuration last applied, recorded on
// each fire ("" before the first).
func (rt *Runtime) revision() string {
	if cfg := rt.config.Load(); cfg != nil {
		return cfg.Revision
	}
	return ""
}

// Stop shuts down in order: stop firing (the schedule actors and their
// timers), flush the fires already taken, stop claiming, let in-flight
// publishes finish within grace, release the leases still held, and end.
// Jobs left planned or running are durable: the next start (or another
// node) picks them up.
func (rt *Runtime) Stop(ctx context.Context, grace time.Duration) error {
	var err error
	rt.stopOnce.Do(func() { err = rt.stop(ctx, grace) })
	return err
}

func (rt *Runtime) stop(ctx context.Context, grace time.Duration) error {
	if rt.system == nil {
		return nil
	}
	root := rt.system.Root
	stopping := make([]*actor.Future, len(rt.supervisors))
	for k, pid := range rt.supervisors {
		stopping[k] = root.PoisonFuture(pid)
	}
	for _, f := range stopping {
		if err := f.Wait(); err != nil {
			rt.logger.Warn("stopping schedule actors", slog.String("error", err.Error()))
		}
	}
	if rt.mailboxes != nil {
		rt.mailboxes.stop()
	}
	rt.recorder.stop()
	rt.stopAccepting()
	<-rt.dispatcherDone
	<-rt.claimerDone
	<-rt.notifierDone

	// Queued jobs are given back; publishes under way have grace to end,
	// their leases renewed meanwhile.
	timer := rt.opts.Clock.AfterFunc(grace, rt.stopInflight)
	rt.pool.stop()
	rt.stopMetrics()
	timer.Stop()
	rt.stopInflight()
	rt.outcomes.stop()
	rt.stopWrites()
	<-rt.renewerDone

	released, err := rt.opts.Store.ReleaseLeases(ctx, store.ReleaseLeasesParams{Node: rt.opts.Node, Now: rt.opts.Clock.Now()})
	if err != nil {
		err = fmt.Errorf("actors: releasing leases: %w", err)
	} else if len(released) > 0 {
		rt.logger.Warn("released leases of unfinished publishes", slog.Int("jobs", len(released)))
	}
	rt.system.Shutdown()
	return err
}
