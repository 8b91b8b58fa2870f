package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/herald-social/herald/engine"
)

// deadLetterFlags are where the dead-letter webhook's URL and secret come
// from besides --dead-letter-webhook and HERALD_DEAD_LETTER_SECRET: files,
// which other users of the machine cannot read in the process list (a
// webhook URL often holds a secret of its own, as Slack's do).
type deadLetterFlags struct {
	urlFile, secretFile string
	// flagURL reports that the URL was given as a command-line value,
	// which deserves a warning.
	flagURL bool
}

// apply reads the files named into cfg. A value given two ways is an
// error rather than a guess.
func (d *deadLetterFlags) apply(cfg *engine.Config, getenv func(string) string) error {
	d.flagURL = cfg.DeadLetterWebhook != "" && cfg.DeadLetterWebhook != getenv("HERALD_DEAD_LETTER_WEBHOOK")
	if d.urlFile != "" {
		if cfg.DeadLetterWebhook != "" {
			return errors.New("--dead-letter-webhook-file: the URL is also given by --dead-letter-webhook or HERALD_DEAD_LETTER_WEBHOOK; give it one way")
		}
		u, err := readSecretFile(d.urlFile)
		if err != nil {
			return fmt.Errorf("--dead-letter-webhook-file: %w", err)
		}
		cfg.DeadLetterWebhook = u
	}
	if d.secretFile != "" {
		if cfg.DeadLetterSecret != "" {
			return errors.New("--dead-letter-secret-file: the secret is also given by HERALD_DEAD_LETTER_SECRET; give it one way")
		}
		s, err := readSecretFile(d.secretFile)
		if err != nil {
			return fmt.Errorf("--dead-letter-secret-file: %w", err)
		}
		cfg.DeadLetterSecret = s
	}
	return nil
}

// warn says, without showing it, that the URL was given as a flag value.
func (d *deadLetterFlags) warn(logger *slog.Logger) {
	if d.flagURL {
		logger.Warn("the dead-letter webhook URL is given on the command line, where other users of the machine can read it; " +
			"use HERALD_DEAD_LETTER_WEBHOOK or --dead-letter-webhook-file")
	}
}

// readSecretFile is a file's content without surrounding white space
// (the final newline); the message never quotes it.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}
