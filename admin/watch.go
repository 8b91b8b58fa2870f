package admin

import (
	"context"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
	"github.com/herald-social/herald/store"
)

// WatchJobEvents streams job transitions from the store's event log, which
// every node writes: a client sees the whole cluster's transitions, in
// commit order, and one that reconnects after the last id it saw misses
// none. The log is polled (every 250 ms when idle), which needs nothing
// from the nodes and costs one indexed query per poll.
func (s *Server) WatchJobEvents(ctx context.Context, req *connect.Request[adminv1.WatchJobEventsRequest], stream *connect.ServerStream[adminv1.WatchJobEventsResponse]) error {
	m := req.Msg
	st := s.b.Store()
	after := m.AfterEventId
	switch {
	case after < 0:
		return invalid("after_event_id", "%d is negative", after)
	case after == 0:
		latest, err := st.LatestEventID(ctx)
		if err != nil {
			return storeError(err)
		}
		after = latest
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil // the client went away
		case <-timer.C:
		}
		events, err := st.ListEvents(ctx, store.ListEventsParams{AfterID: after, Limit: 500})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return storeError(err)
		}
		jobs := map[int64]store.Job{}
		for _, e := range events {
			after = e.ID
			j, ok := jobs[e.JobID]
			if !ok {
				if j, err = st.GetJob(ctx, e.JobID); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return storeError(err)
				}
				jobs[e.JobID] = j
			}
			if m.ScheduleId != "" && j.ScheduleID != m.ScheduleId {
				continue
			}
			if err := stream.Send(&adminv1.WatchJobEventsResponse{Event: eventToProto(e), Job: jobToProto(j)}); err != nil {
				return err
			}
		}
		if len(events) == 500 {
			timer.Reset(0)
		} else {
			timer.Reset(s.poll)
		}
	}
}
