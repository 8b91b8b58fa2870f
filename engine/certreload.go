package engine

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
)

// certCheckEvery is how often, at most, a TLS handshake looks at the
// certificate files: a renewed certificate (cert-manager, certbot) is
// served within this long, without a restart.
const certCheckEvery = 5 * time.Second

// certReloader serves the certificate of --tls-cert/--tls-key and loads the
// pair again when either file's modification time or size changed. A pair
// that fails to load (a renewal caught half-written) keeps the previous one
// in service, with a warning, and is tried again at the next check.
type certReloader struct {
	certFile, keyFile string
	clock             clock.Clock
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string    // the files' mtimes and sizes when cert was loaded
	checked time.Time // the last look at the files
}

func newCertReloader(certFile, keyFile string, clk clock.Clock, logger *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, clock: clk, logger: logger}
	stamp, err := c.fileStamp()
	if err == nil {
		err = c.load(stamp)
	}
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	c.checked = clk.Now()
	return c, nil
}

// GetCertificate is tls.Config's: the current certificate, reloaded first
// when its files changed since the last check.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.clock.Now(); now.Sub(c.checked) >= certCheckEvery {
		c.checked = now
		stamp, err := c.fileStamp()
		if err == nil && stamp != c.stamp {
			err = c.load(stamp)
			if err == nil {
				c.logger.Info("TLS certificate reloaded", slog.String("cert", c.certFile))
			}
		}
		if err != nil {
			c.logger.Warn("TLS certificate not reloaded: the previous one stays in service", slog.String("cert", c.certFile), slog.String("error", err.Error()))
		}
	}
	return c.cert, nil
}

func (c *certReloader) load(stamp string) error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

func (c *certReloader) fileStamp() (string, error) {
	var stamp string
	for _, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return "", err
		}
		stamp += fmt.Sprintf("%d/%d;", fi.ModTime().UnixNano(), fi.Size())
	}
	return stamp, nil
}
