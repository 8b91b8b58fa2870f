// Package admin implements herald.admin.v1.AdminService, the admin API
// that `herald ctl`, the dashboard and any Connect, gRPC or gRPC-Web
// client use, and its bearer-token authentication.
//
// It reads jobs, events and metrics straight from the store, and asks the
// node (the Backend, implemented by the engine) for what only the node
// knows: the running configuration, reloads, pauses, manual triggers,
// health and the cluster's nodes.
package admin

import (
	"context"
	"time"

	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// Backend is what the admin API needs of a running node.
type Backend interface {
	// Info describes the node.
	Info() NodeInfo
	// Config is the configuration running now (nil before the first).
	Config() *schedules.Config
	// LastReload is the outcome of the latest load, good or bad.
	LastReload() Reload
	// Reload loads and applies the configuration by the same path as a
	// file change.
	Reload(ctx context.Context) (Reload, error)
	// Store is the node's store.
	Store() store.Store
	// Redis reports Redis's health: configured false when there is none.
	Redis(ctx context.Context) (configured bool, err error)
	// Pauses are the schedules paused now, by id.
	Pauses(ctx context.Context) (map[string]store.Pause, error)
	// Pause pauses a schedule (replacing an earlier pause); Resume ends a
	// pause (a no-op when there is none). Both are durable and reach every
	// node.
	Pause(ctx context.Context, p store.Pause) error
	Resume(ctx context.Context, id string) error
	// Journal logs ("job transition") and counts a transition the API made.
	Journal(ctx context.Context, c store.Change)
	// Trigger fires a schedule now, once.
	Trigger(ctx context.Context, id string) (store.Job, error)
	// Nodes lists the nodes sharing the store, from their heartbeats.
	Nodes(ctx context.Context) ([]NodeInfo, error)
	// Warnings are what an operator should know about the cluster (for
	// example nodes sharing a store without Redis), for GetStatus.
	Warnings() []string
	// Accounts lists the configured accounts, by name, with the state of
	// their credentials (problems reading it are in each one's state).
	Accounts(ctx context.Context) []Account
	// Now is the node's clock.
	Now() time.Time
}

// NodeInfo describes one node.
type NodeInfo struct {
	ID string
	// Address is where the node's API is reached.
	Address   string
	Version   string
	Revision  string
	DryRun    bool
	StartedAt time.Time
	LastSeen  time.Time
	Alive     bool
	// RedisHealth and StoreHealth are as of the node's last heartbeat (see
	// store.Node).
	RedisHealth string
	StoreHealth string
	// InFlight counts the jobs the node holds the lease of.
	InFlight int
	// RevisionMismatch: the node is alive and its revision is not the most
	// common among the live nodes.
	RevisionMismatch bool
}

// Reload is the outcome of one configuration load.
type Reload struct {
	Result   string // "ok" or "error"
	Trigger  string
	Revision string
	Added    int
	Removed  int
	Changed  int
	Errors   []string
	At       time.Time
}

// Account is a configured account and the state of its credentials.
type Account struct {
	Name string
	// Auth is "oauth2", "oauth1" or "none" (no credentials).
	Auth   string
	DryRun bool
	// State is one of the AuthState* values.
	State  string
	Detail string
	Since  time.Time
}

// The states of an account's credentials (Account.State), as package x
// names them.
const (
	AuthStateOK                     = "ok"
	AuthStateRefreshInProgressFound = "refresh_in_progress_found"
	AuthStateReauthRequired         = "reauth_required"
	AuthStateUnknown                = "unknown"
)
