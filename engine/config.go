package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/herald-social/herald/store/open"
)

// Config is how a node runs; `herald serve` fills it from flags and HERALD_*
// environment variables.
type Config struct {
	ConfigPaths  []string      // schedule files or folders
	DB           string        // postgres://... or sqlite:PATH
	Listen       string        // health (and later the API) address
	DryRun       bool          // publish nothing, log what would be posted
	NodeID       string        // this node's id in leases, events and logs
	Publishers   int           // publisher pool size
	Grace        time.Duration // how long in-flight publishes may finish at shutdown
	PollInterval time.Duration // checksum poll of the config files (a backstop to fsnotify)
	Lease        time.Duration // a running job's lease
}

// DefaultDB is the embedded store used when no database is given.
const DefaultDB = open.DefaultURL

// Validate reports every problem with c, each naming its flag.
func (c Config) Validate() error {
	var errs []error
	if len(c.ConfigPaths) == 0 {
		errs = append(errs, errors.New("--config: at least one schedules file or folder is required"))
	}
	if _, _, err := open.Parse(c.DB); err != nil {
		errs = append(errs, fmt.Errorf("--db: %w", err))
	}
	if c.Publishers < 1 || c.Publishers > 1024 {
		errs = append(errs, fmt.Errorf("--publishers %d: want 1 to 1024", c.Publishers))
	}
	if c.NodeID == "" {
		errs = append(errs, errors.New("--node-id: must not be empty"))
	}
	if c.Grace < 0 {
		errs = append(errs, fmt.Errorf("--grace %v: must not be negative", c.Grace))
	}
	return errors.Join(errs...)
}
