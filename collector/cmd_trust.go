package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/store"
)

func cmdTrustSummary(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var trust, format *string
	c, st, err := setup(ctx, "trust summary", args, stdout, stderr, func(fs *pflag.FlagSet) {
		trust = fs.String("trust", "", "trust name or id (required)")
		format = fs.String("format", "table", "table or json")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	if *trust == "" {
		return fmt.Errorf("--trust is required")
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("--format must be table or json, not %q", *format)
	}
	cat, err := catalogueWithPolicy(c.config.Standards.Policy)
	if err != nil {
		return err
	}
	sum, err := report.BuildTrustSummary(ctx, st, cat, *trust, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no trust %q (create one with `probity-collector trust add NAME`)", *trust)
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		return sum.WriteJSON(stdout)
	}
	return sum.WriteTable(stdout)
}
