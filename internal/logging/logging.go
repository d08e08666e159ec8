// Package logging builds the one slog.Logger each binary hands down to its
// components: text on a terminal, JSON under systemd or when asked.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// Config is the log section shared by agent.yaml and collector.yaml.
type Config struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // auto (text on a terminal, else json), text, json
}

// Defaults: info, format chosen from the output.
var Defaults = Config{Level: "info", Format: "auto"}

// Validate names the key that is wrong.
func (c Config) Validate() error {
	if _, err := level(c.Level); err != nil {
		return cfgerr.Errorf("level", "%v", err)
	}
	switch c.Format {
	case "auto", "text", "json":
	default:
		return cfgerr.Errorf("format", "must be auto, text or json, not %q", c.Format)
	}
	return nil
}

func level(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("must be debug, info, warn or error, not %q", s)
}

// New builds the logger writing to w.
func New(c Config, w io.Writer) *slog.Logger {
	lvl, _ := level(c.Level)
	opts := &slog.HandlerOptions{Level: lvl}
	format := c.Format
	if format == "auto" || format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && isTerminal(f) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
