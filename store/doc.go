// Package store owns Herald's durable state: jobs (one per fire of a
// schedule), their state machine, and the event log that records every
// transition. The job row is the single source of truth; actors carry job IDs
// and reload what they need from here.
//
// Next to the jobs it keeps:
//   - metrics tasks and snapshots: a post's metrics stages (1h, 24h, 7d
//     after publishing) become tasks in the transaction of the job's success,
//     are leased per account to one node at a time (ClaimMetricsTasks), and
//     end as one snapshot per (job, post, stage), kept forever;
//   - a small versioned key-value state (GetState, PutState) for what every
//     node shares and must not overwrite blindly: OAuth refresh tokens,
//     which X rotates on each refresh (stored encrypted by the caller), and
//     cursors such as the dead-letter webhook's;
//   - the nodes of a cluster (Heartbeat, ListNodes) and the operators'
//     pauses (Pause, Resume, ListPauses): small tables written outside the
//     job writes' serialisation, so neither slows a burst of fires.
//
// This package holds only the contract: the [Store] interface, the domain
// types, the transition table and the sentinel errors. Implementations live
// in sub-packages (store/sqlite, the embedded default; store/postgres, for
// clusters) and pass one conformance suite (store/storetest). store/open picks
// one by URL.
//
// Conventions every implementation follows:
//   - Every method takes a context and a params struct; times come from the
//     caller (Now fields) because the store never reads a clock, and are
//     converted to UTC here, at the boundary. Instants are stored exactly, to
//     the nanosecond (int64 Unix nanoseconds in both drivers), so what a
//     caller writes is what it reads back and the dedupe key (schedule,
//     planned instant) never collides through rounding.
//   - Hot paths are batched (CreateJobs, ClaimJobs, Transition), so an engine
//     that groups the fires and transitions of a few milliseconds pays one
//     transaction for them, not one per job.
//   - A transition is a conditional update: it happens only if the job is
//     still in the expected state (and, out of running, still leased by the
//     caller's node and attempt). Otherwise nothing changes and a typed
//     [*TransitionError] says why. Each transition writes one [Event] in the
//     same transaction.
//   - The store does not log. Methods return the changed jobs and the events
//     they recorded, so the caller can log and count transitions.
//
// store imports nothing else of Herald's and must not import actors, engine or
// cmd; it may later use schedules types.
package store
