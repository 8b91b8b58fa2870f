// Package storeutil holds what the store drivers share besides SQL: time
// encoding, parameter validation, page tokens and the migration file loader.
// It keeps the drivers' behaviour identical where it does not depend on the
// database.
package storeutil

import (
	"fmt"
	"math"
	"time"

	"github.com/herald-social/herald/store"
)

// Instants are stored as int64 Unix nanoseconds: exact (Postgres timestamptz
// keeps only microseconds), identical in both drivers, and cheap to index.
// The cost is the representable range, years 1678 to 2262, checked here.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// Nanos encodes t, which must be non-zero and representable.
func Nanos(field string, t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, fmt.Errorf("%s is required: %w", field, store.ErrInvalid)
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("%s %s is outside the storable range (1678-2262): %w", field, t.Format(time.RFC3339Nano), store.ErrInvalid)
	}
	return t.UnixNano(), nil
}

// OptNanos encodes t like Nanos, with the zero time as 0 and ok false.
func OptNanos(field string, t time.Time) (n int64, ok bool, err error) {
	if t.IsZero() {
		return 0, false, nil
	}
	n, err = Nanos(field, t)
	return n, err == nil, err
}

// Time decodes a stored instant, in UTC.
func Time(n int64) time.Time { return time.Unix(0, n).UTC() }

// OptTime decodes a nullable stored instant; nil is the zero time.
func OptTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return Time(*n)
}

// Limit normalises a page size: def when n <= 0, at most max.
func Limit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	return min(n, max)
}

// Page sizes of the list methods.
const (
	DefaultPage = 100
	MaxPage     = 1000
)
