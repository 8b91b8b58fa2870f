// Package store owns Herald's durable state: jobs (one per fire of a
// schedule), their state machine, and the event log that records every
// transition. The job row is the single source of truth; actors carry job IDs
// and reload what they need from here.
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
