package storetest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/herald-social/herald/internal/benchutil"
	"github.com/herald-social/herald/store"
)

// Fires1M is how many schedules BenchLatestFires reads: the 1,000,000 a
// node starts with in the start-up goal (issue 3).
const Fires1M = 1_000_000

// SkipUnlessFires1M skips a 1M-fires benchmark unless
// HERALD_BENCH_STORE_1M=1: seeding and reading a million rows takes a
// minute, too long for every `go test -bench`.
func SkipUnlessFires1M(b *testing.B) {
	if os.Getenv("HERALD_BENCH_STORE_1M") != "1" {
		b.Skip("set HERALD_BENCH_STORE_1M=1 to read 1,000,000 latest fires")
	}
}

// BenchLatestFires reads the latest fire of Fires1M schedules from s, as a
// node starting with them does: by their IDs (LatestFires) and all at once
// (AllLatestFires). The caller seeds s in SQL first: schedule i is
// "s-%07d", its last run i%1000+1, and its last planned instant NULL when
// i%100 == 0 (only manual jobs) and 1800000000 s + i s after the epoch
// otherwise. Besides ns/op each reports this process's CPU time per read
// (cpu-s/op, user+sys), which suffers less than ns/op when others share
// the machine.
func BenchLatestFires(b *testing.B, s store.Store) {
	ctx := context.Background()
	ids := make([]string, Fires1M)
	for i := range ids {
		ids[i] = fmt.Sprintf("s-%07d", i)
	}
	b.Run("LatestFires", func(b *testing.B) {
		benchRead(b, func() (map[string]store.Fire, error) { return s.LatestFires(ctx, ids) })
	})
	b.Run("AllLatestFires", func(b *testing.B) {
		benchRead(b, func() (map[string]store.Fire, error) { return s.AllLatestFires(ctx) })
	})
}

// benchRead runs read in a loop, checks what it read, and reports cpu-s/op.
func benchRead(b *testing.B, read func() (map[string]store.Fire, error)) {
	b.ReportAllocs()
	cpu0 := benchutil.CPUTime()
	var got map[string]store.Fire
	for b.Loop() {
		var err error
		if got, err = read(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((benchutil.CPUTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	if len(got) != Fires1M {
		b.Fatalf("read %d fires, want %d", len(got), Fires1M)
	}
	if f := got["s-0000100"]; f.Run != 101 || !f.PlannedAt.IsZero() {
		b.Errorf("s-0000100: %+v, want run 101 and no planned instant", f)
	}
	if f := got["s-0000101"]; f.Run != 102 || f.PlannedAt.UnixNano() != 1800000101000000000 || f.PlannedAt.Location() != time.UTC {
		b.Errorf("s-0000101: %+v, want run 102 planned at 1800000101000000000 UTC", f)
	}
}
