// Package schedules loads Herald's posting plan: YAML files that declare
// accounts (credentials by reference only) and schedules (a cron, RRULE or
// one-shot timing, a post template, media and metrics stages).
//
// Load reads a set of files and folders, decodes them strictly by walking
// yaml.Node trees (unknown fields, wrong types and duplicate keys are errors,
// each with its line and column), validates everything including cross-file
// references, and returns either a complete Config or a Diagnostics error
// listing every problem at once. Nothing is applied from a configuration
// that has a single problem; callers keep the last good Config. A Config
// also lists warnings: what loads but will probably fail when published,
// such as a recurring post whose text never changes (repeat.go).
//
// A Loader does the same again and again, as a node does on every edit:
// it keeps each file's decode and decodes only the files whose bytes (or
// media) changed, then runs the cross-file checks over all of them, with
// exactly the result a fresh Load would give.
//
// FORMAT.md next to this file documents the format and its limits.
//
// Timing maths lives in the spec subpackage; this package only compiles a
// schedule's spec once at load time. It reads no clock: anything that would
// depend on "now" (such as the sample run used to check templates) uses a
// fixed reference instant, so a file validates the same way every day and on
// every node.
//
// The package imports nothing else of Herald's besides schedules/spec.
package schedules
