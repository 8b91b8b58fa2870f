// Package platform defines what Herald needs of a social platform: publish a
// post (with its thread), and find out whether an ambiguous publish landed.
// Implementations live in subpackages (dryrun here; the X client in its own
// package). The package imports nothing else of Herald's.
package platform

import (
	"context"
	"errors"
	"time"
)

// Post is one rendered job to publish: the main post and its thread.
type Post struct {
	// JobID and CorrelationID identify the job, for logs.
	JobID         int64
	CorrelationID string
	ScheduleID    string
	Account       string
	PlannedAt     time.Time
	// Texts are the main post then each reply of the thread, rendered.
	Texts []string
	// Media are attached to the main post.
	Media []Media
	// Published are the platform ids of the posts of Texts already published
	// by earlier attempts, in order: publishing resumes after the last one,
	// replying to it.
	Published []string
}

// Media is a file attached to a post.
type Media struct {
	Path string
	Alt  string
}

// Platform publishes posts. Implementations are safe for concurrent use.
type Platform interface {
	// Publish publishes the posts of p not yet in p.Published. It calls
	// progress with each post's id as soon as that post exists, so the
	// caller can record it before the next one (a crash then resumes after
	// it instead of posting twice). It returns the ids of every post of the
	// thread, in order. Errors are classified with the sentinels below.
	Publish(ctx context.Context, p Post, progress func(postID string) error) ([]string, error)
	// Find looks for an already published post of p whose outcome was
	// ambiguous (the request may have reached the platform). It returns
	// the ids found, in thread order, or none.
	Find(ctx context.Context, p Post) ([]string, error)
}

// Failure classes: a Platform's errors wrap exactly one of these, so the
// publisher knows whether to retry, give up, or reconcile first.
var (
	// ErrTransient: nothing was published and trying again later may work
	// (5xx, a timeout before the request was written, a rate limit).
	ErrTransient = errors.New("transient platform failure")
	// ErrPermanent: the platform refused the post; retrying cannot help.
	ErrPermanent = errors.New("permanent platform failure")
	// ErrAmbiguous: the request may have reached the platform; reconcile
	// with Find before any retry.
	ErrAmbiguous = errors.New("ambiguous platform outcome")
)
