package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

func runCtlNodes(c *ctl, args []string) int {
	fs := c.flagSet("nodes", `Lists the nodes sharing the store, from their heartbeats (every 10s): id,
address, version, configuration revision, last heartbeat, whether alive
(not after three missed heartbeats), Redis and store health, and the jobs
each one holds. A live node whose revision is not the most common among the
live nodes is marked with "*": its configuration checkout differs.`)
	if _, code := c.start(fs, args); code != proceed {
		return code
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.ListNodes(ctx, connect.NewRequest(&adminv1.ListNodesRequest{}))
	if err != nil {
		return c.fail(err)
	}
	now := c.env.now()
	return c.print(resp.Msg, func(w io.Writer) { writeNodes(w, resp.Msg.GetNodes(), now) })
}

// writeNodes writes the nodes as a table, then what the "*" mark means
// when a node carries it.
func writeNodes(w io.Writer, nodes []*adminv1.Node, now time.Time) {
	if len(nodes) == 0 {
		fmt.Fprintln(w, "no node has recorded a heartbeat")
		return
	}
	fmt.Fprintln(w, "NODE\tADDRESS\tVERSION\tREVISION\tLAST SEEN\tALIVE\tREDIS\tSTORE\tIN FLIGHT")
	mismatch := false
	for _, n := range nodes {
		rev := orDash(n.GetConfigRevision())
		if n.GetRevisionMismatch() {
			rev, mismatch = rev+" *", true
		}
		alive := "yes"
		if !n.GetAlive() {
			alive = "no"
		}
		redis := n.GetRedisHealth()
		if redis == "" {
			redis = "none"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.GetId(), orDash(n.GetAddress()), orDash(n.GetVersion()), rev,
			fmtWhen(n.GetLastSeen(), now), alive, cell(redis, 60), orDash(n.GetStoreHealth()), strconv.Itoa(int(n.GetJobsInFlight())))
	}
	if mismatch {
		fmt.Fprintln(w, "\n* runs a configuration revision other than the most common among live nodes")
	}
}
