package spec

import "errors"

// ErrInvalidCron is matched (errors.Is) by every error Cron returns for an
// expression it cannot compile. The message names the field at fault, for
// example `cron: field "hour": 25 out of range 0-23`.
var ErrInvalidCron = errors.New("spec: invalid cron expression")

// ErrInvalidRRule is matched by every error RRule returns for a rule it
// cannot compile (a bad part, a DTSTART in the rule text, a missing start).
var ErrInvalidRRule = errors.New("spec: invalid RRULE")

// ErrInvalidAt is matched by errors from ParseAt.
var ErrInvalidAt = errors.New("spec: invalid one-shot time")

// ErrInvalidCivil is matched by errors from ParseCivil and Civil.Validate.
var ErrInvalidCivil = errors.New("spec: invalid local wall time")

// ErrInvalidWindow is matched by errors from Window.Validate, and so by Cron
// and RRule when handed a bad window.
var ErrInvalidWindow = errors.New("spec: invalid window")

// ErrNeverFires is matched, together with ErrInvalidCron or ErrInvalidRRule,
// when a spec parses but can never fire (for example "0 0 30 2 *"): such a
// schedule is almost certainly a typo, so it is refused at load time rather
// than silently never posting.
var ErrNeverFires = errors.New("spec: never fires")

// specError keeps the message a one-liner that reads well in a
// FILE:LINE:COL diagnostic while still matching the package's sentinels and
// exposing the parsing library's own error (if any) to errors.As.
type specError struct {
	msg   string
	kinds []error
}

func (e *specError) Error() string   { return e.msg }
func (e *specError) Unwrap() []error { return e.kinds }

func newError(msg string, kinds ...error) error {
	ks := make([]error, 0, len(kinds))
	for _, k := range kinds {
		if k != nil {
			ks = append(ks, k)
		}
	}
	return &specError{msg: msg, kinds: ks}
}
