package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/jobs"
	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
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
	var siteID, trust, kind, format, out, since *string
	c, st, err := setup(ctx, "report", args, stdout, stderr, func(fs *pflag.FlagSet) {
		siteID = fs.String("site", "", "site id or URN (this or --trust)")
		trust = fs.String("trust", "", "every school of this trust (name or id), one file each in the --out folder, with the trust report (trust.html, trust.pdf) and fleet.json")
		kind = fs.String("kind", "evidence", "evidence (the Standard 1 evidence report) or review (the annual IT support review)")
		format = fs.String("format", "html", "html, pdf, csv or json (review: html, pdf or json)")
		out = fs.String("out", "-", "output file (a folder with --trust); - for standard output")
		since = fs.String("since", "", "start of the period and the verdicts to compare with: 90d, a date (2026-09-01) or RFC 3339; default 90d, a year for a review")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	if (*siteID == "") == (*trust == "") {
		return fmt.Errorf("give --site or --trust")
	}
	if *kind != "evidence" && *kind != "review" {
		return fmt.Errorf("--kind must be evidence or review, not %q", *kind)
	}
	if !slices.Contains([]string{"html", "pdf", "csv", "json"}, *format) || *kind == "review" && *format == "csv" {
		return fmt.Errorf("--format must be html, pdf, csv or json (a review has no csv), not %q", *format)
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
	o := report.Options{Now: now, Since: from}
	if *siteID != "" {
		return writeReport(ctx, st, cat, *siteID, *kind, *format, *out, o, stdout, stderr)
	}
	if *out == "-" {
		return fmt.Errorf("--trust writes one file per school: give --out a folder")
	}
	t, err := report.FindTrust(ctx, st, *trust)
	if err != nil {
		return err
	}
	fleet, err := report.BuildFleet(ctx, st, cat, t.ID, now)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	began := time.Now()
	var mu sync.Mutex
	done := 0
	err = report.Each(ctx, len(fleet.Schools), 0, func(i int) error {
		s := fleet.Schools[i]
		one := time.Now()
		file := filepath.Join(*out, s.Site.ID+"-"+*kind+"."+*format)
		if err := writeReport(ctx, st, cat, s.Site.ID, *kind, *format, file, o, io.Discard, io.Discard); err != nil {
			return fmt.Errorf("%s: %w", s.Site.Name, err)
		}
		// Progress: a trust of hundreds of schools takes a while.
		mu.Lock()
		done++
		fmt.Fprintf(stderr, "[%d/%d] %s: %s (%.1f s)\n", done, len(fleet.Schools), s.Site.Name, file, time.Since(one).Seconds())
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	for _, tr := range []struct {
		name  string
		write func(io.Writer) error
	}{{"trust.html", fleet.WriteHTML}, {"trust.pdf", fleet.WritePDF}} {
		f, err := os.Create(filepath.Join(*out, tr.name))
		if err != nil {
			return err
		}
		if err := tr.write(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	index := filepath.Join(*out, "fleet.json")
	f, err := os.Create(index)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fleet); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d reports for %s, the trust report (trust.html, trust.pdf) and the fleet overview (%s) written in %.1f s.\n", len(fleet.Schools), t.Name, index, time.Since(began).Seconds())
	return nil
}

// writeReport builds one school's report or review and writes it to out
// ("-": stdout).
func writeReport(ctx context.Context, st store.Store, cat *standards.Catalogue, siteID, kind, format, out string, o report.Options, stdout, stderr io.Writer) error {
	w := stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	var name string
	if kind == "review" {
		rv, err := report.BuildReview(ctx, st, cat, siteID, o)
		if err != nil {
			return err
		}
		name = rv.Report.Site.Name
		switch format {
		case "html":
			err = rv.WriteHTML(w)
		case "pdf":
			err = rv.WritePDF(w)
		case "json":
			err = json.NewEncoder(w).Encode(rv)
		}
		if err != nil {
			return err
		}
	} else {
		rep, err := report.BuildWith(ctx, st, cat, siteID, o)
		if err != nil {
			return err
		}
		name = rep.Site.Name
		switch format {
		case "html":
			err = rep.WriteHTML(w)
		case "pdf":
			err = rep.WritePDF(w)
		case "csv":
			err = rep.WriteCSV(w)
		case "json":
			err = rep.WriteJSON(w)
		}
		if err != nil {
			return err
		}
	}
	if out != "-" {
		fmt.Fprintf(stderr, "%s for %s written to %s.\n", map[string]string{"evidence": "Evidence report", "review": "Annual review"}[kind], name, out)
	}
	return nil
}
