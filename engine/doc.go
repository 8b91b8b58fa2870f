// Package engine wires one Herald node: it opens the store, loads and
// watches the schedules, runs the actors, serves health endpoints, and
// reloads the configuration when the files change, on SIGHUP (relayed by
// main) or on request. It owns the "config reload" log event.
//
// Dependency direction: engine imports actors, schedules, store and the
// platforms; nothing below it imports engine.
package engine
