package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/jobs"
	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/internal/logging"
)

func cmdScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var siteID *string
	c, st, err := setup(ctx, "score", args, stdout, stderr, func(fs *pflag.FlagSet) {
		siteID = fs.String("site", "", "score only this site (id or URN)")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	cat, err := catalogueWithPolicy(c.config.Standards.Policy)
	if err != nil {
		return err
	}
	runner := &jobs.Runner{Store: st, Catalogue: cat, Retention: c.config.Retention.Raw, HourlyRetention: c.config.Retention.Hourly, Log: logging.New(c.config.Log, stderr)}
	sites, err := st.Sites(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tREQUIREMENT\tVERDICT\tWHY")
	found := false
	for _, s := range sites {
		if *siteID != "" && s.ID != *siteID && s.URN != *siteID {
			continue
		}
		found = true
		vs, err := runner.ScoreSite(ctx, s)
		if err != nil {
			return err
		}
		for _, v := range vs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, v.ReqID, v.State.Label(), v.Summary)
		}
	}
	if *siteID != "" && !found {
		return fmt.Errorf("no site %q", *siteID)
	}
	return tw.Flush()
}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var siteID, format, out, since *string
	c, st, err := setup(ctx, "report", args, stdout, stderr, func(fs *pflag.FlagSet) {
		siteID = fs.String("site", "", "site id or URN (required)")
		format = fs.String("format", "html", "html or json")
		out = fs.String("out", "-", "output file; - for standard output")
		since = fs.String("since", "90d", "compare with the verdicts as they stood then: 90d, a date (2026-09-01) or RFC 3339")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	if *siteID == "" {
		return fmt.Errorf("--site is required")
	}
	now := time.Now()
	from, err := report.ParseSince(*since, now)
	if err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	cat, err := catalogueWithPolicy(c.config.Standards.Policy)
	if err != nil {
		return err
	}
	rep, err := report.BuildWith(ctx, st, cat, *siteID, report.Options{Now: now, Since: from})
	if err != nil {
		return err
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	switch *format {
	case "html":
		err = rep.WriteHTML(w)
	case "json":
		err = rep.WriteJSON(w)
	default:
		return fmt.Errorf("--format must be html or json, not %q", *format)
	}
	if err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(stderr, "Report for %s written to %s.\n", rep.Site.Name, *out)
	}
	return nil
}
