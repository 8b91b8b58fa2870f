// Package actors runs schedules: supervisors hold one Schedule actor per
// enabled schedule, each keeping one timer for its next fire (a schedule
// with nothing to catch up waits dormant, its timer held by its
// supervisor, until its first fire spawns its actor); fires are
// recorded in batches by a Recorder and published by a publisher Pool; a
// Dispatcher re-drives whatever is durable but not moving (unclaimed planned
// jobs, due retries, expired leases).
//
// The job row in the store is the single source of truth: messages carry
// ids and a correlation id, never shared mutable state, and an actor that
// dies loses nothing that was recorded. Actors are thin adapters over plain
// functions (catch-up planning, batching) that are tested on their own.
//
// Time comes from an injected clock.Clock; nothing here calls time.Now.
// The package must not import the engine or generated API code.
package actors
