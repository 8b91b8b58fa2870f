package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// BatchSize is the batch the benchmarks use: a burst of fires due at the same
// instant, grouped by the engine.
const BatchSize = 1000

// BurstSize is the burst the engine must record end to end in under 2.5 s
// on Postgres: fires of distinct schedules due at the same instant.
const BurstSize = 10_000

// newBatch returns n fires of distinct schedules at one instant.
func newBatch(round, n int) []store.NewJob {
	at := t0.Add(time.Duration(round) * time.Minute)
	jobs := make([]store.NewJob, n)
	for i := range jobs {
		jobs[i] = store.NewJob{ScheduleID: fmt.Sprintf("schedule-%05d", i), PlannedAt: at, CorrelationID: fmt.Sprintf("c-%d-%d", round, i)}
	}
	return jobs
}

// BenchmarkCreateJobs records batches of BatchSize new fires.
func BenchmarkCreateJobs(b *testing.B, h Harness) { benchCreate(b, h, BatchSize, false, false) }

// BenchmarkClaimTransition runs batches of BatchSize jobs through a fire's
// whole store path: create, claim by ID, succeed.
func BenchmarkClaimTransition(b *testing.B, h Harness) { benchPath(b, h, BatchSize) }

// BenchmarkBurst runs one burst of BurstSize fires through the same path as
// BenchmarkClaimTransition, each step one call: the store's share of the
// 2.5 s budget.
func BenchmarkBurst(b *testing.B, h Harness) { benchPath(b, h, BurstSize) }

func benchPath(b *testing.B, h Harness, n int) {
	s := h.Open(b)
	ctx := context.Background()
	round := 0
	for b.Loop() {
		now := t0.Add(time.Duration(round) * time.Minute)
		res, err := s.CreateJobs(ctx, store.CreateJobsParams{Jobs: newBatch(round, n), Node: nodeA, Now: now})
		if err != nil {
			b.Fatalf("CreateJobs: %v", err)
		}
		ids := make([]int64, len(res))
		for i, r := range res {
			ids[i] = r.Job.ID
		}
		claimed, err := s.ClaimJobs(ctx, store.ClaimJobsParams{IDs: ids, Node: nodeA, Now: now, LeaseUntil: now.Add(time.Minute)})
		if err != nil || len(claimed) != len(ids) {
			b.Fatalf("ClaimJobs: %d of %d, %v", len(claimed), len(ids), err)
		}
		ps := make([]store.TransitionParams, len(claimed))
		for i, c := range claimed {
			ps[i] = store.TransitionParams{JobID: c.Job.ID, From: store.StatusRunning, To: store.StatusSucceeded,
				Node: nodeA, Attempt: c.Job.Attempt, Now: now, AppendPostIDs: []string{fmt.Sprint("post-", c.Job.ID)}}
		}
		results, err := s.Transition(ctx, ps...)
		if err != nil {
			b.Fatalf("Transition: %v", err)
		}
		for _, r := range results {
			if r.Err != nil {
				b.Fatalf("Transition: %v", r.Err)
			}
		}
		round++
	}
	b.ReportMetric(float64(round*n)/b.Elapsed().Seconds(), "jobs/s")
}

// SecondBurst is the fires due in one second with 100,000 schedules firing
// once a minute, their seconds spread evenly: the engine writes them as one
// batch.
const SecondBurst = 1667

// BenchmarkCreateSecondBurst records SecondBurst new fires due now, as the
// engine's recorder does: with claim, created and claimed in the same call
// (CreateJobsParams.ClaimLeaseUntil), which is the write a fire's commit
// waits for.
func BenchmarkCreateSecondBurst(b *testing.B, h Harness, claim bool) {
	benchCreate(b, h, SecondBurst, claim, false)
}

// BenchmarkCreateSecondBurstPosts is BenchmarkCreateSecondBurst with claim,
// each fire carrying the post it freezes (benchPost), as the engine's
// recorder sends them.
func BenchmarkCreateSecondBurstPosts(b *testing.B, h Harness) {
	benchCreate(b, h, SecondBurst, true, true)
}

// benchPost is a post of a usual size: two texts of a thread, one picture.
func benchPost(round, i int) *store.FrozenPost {
	return &store.FrozenPost{Account: fmt.Sprintf("account-%d", i%50), Texts: []string{
		fmt.Sprintf("Round %d of schedule %d: the weekly digest is out, with the numbers of the week and what changed since "+
			"the last one. Read it before Friday's call — thanks! #digest", round, i),
		"Replies and corrections welcome in the thread below.",
	}, Media: []store.FrozenMedia{{Path: fmt.Sprintf("media/digest-%d.png", i%50), Alt: "The chart of the week"}}}
}

// benchCreate records batches of n new fires due now, created and claimed
// in the same call if claim, with posts if posts, and reports jobs/s.
func benchCreate(b *testing.B, h Harness, n int, claim, posts bool) {
	s := h.Open(b)
	ctx := context.Background()
	round := 0
	for b.Loop() {
		now := t0.Add(time.Duration(round) * time.Minute)
		p := store.CreateJobsParams{Jobs: newBatch(round, n), Node: nodeA, Now: now}
		if claim {
			p.ClaimLeaseUntil = now.Add(time.Minute)
		}
		if posts {
			for i := range p.Jobs {
				p.Jobs[i].Post = benchPost(round, i)
			}
		}
		res, err := s.CreateJobs(ctx, p)
		if err != nil || !res[0].Created || (res[0].Claim != nil) != claim {
			b.Fatalf("CreateJobs: %+v, %v", res[0], err)
		}
		round++
	}
	b.ReportMetric(float64(round*n)/b.Elapsed().Seconds(), "jobs/s")
}
