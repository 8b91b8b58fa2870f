package ratelimit

import "errors"

// ErrUnknownPreset is returned by Preset for a name it does not know; the
// message lists the known ones.
var ErrUnknownPreset = errors.New("ratelimit: unknown preset")

// ErrInvalid is wrapped by a Limiter's methods when an argument cannot be
// accounted for: a window with a non-positive limit or period, a scope other
// than user or app, an app-scope call for a subject without an app. It is a
// caller's bug, never a reason to send the request anyway.
var ErrInvalid = errors.New("ratelimit: invalid argument")
