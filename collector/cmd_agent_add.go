package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/store"
)

// cmdAgentAdd creates an agent for a sender that is not probity-agent,
// such as a school's Telegraf, and prints its credential once. It is
// enrolment done on the spot: a token made and consumed at once, so the
// agent is created exactly as `probity-agent enrol` would create it.
func cmdAgentAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var siteID, hostname *string
	c, st, err := setup(ctx, "agent add", args, stdout, stderr, func(fs *pflag.FlagSet) {
		siteID = fs.String("site", "", "site id or URN (required)")
		hostname = fs.String("hostname", "", "the sending host, as `agent list` will show it (required)")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	if *siteID == "" {
		return fmt.Errorf("--site is required")
	}
	if *hostname == "" {
		return fmt.Errorf("--hostname is required (the host that will send, e.g. the school's Telegraf server)")
	}
	site, err := st.Site(ctx, *siteID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no site %q (see `probity-collector site list`)", *siteID)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	token, cred := api.NewSecret(), api.NewSecret()
	if err := st.CreateEnrolToken(ctx, site.ID, store.HashSecret(token), now.Add(time.Minute)); err != nil {
		return err
	}
	a, err := st.ConsumeEnrolToken(ctx, store.HashSecret(token), store.Agent{Hostname: *hostname}, store.HashSecret(cred), now)
	if err != nil {
		return fmt.Errorf("creating the agent: %w", err)
	}
	fmt.Fprintln(stdout, cred)
	fmt.Fprintf(stderr, "Agent %s added to site %s (%s) for %s. The credential above is shown only this once; the collector keeps only its hash.\n",
		a.ID, site.ID, site.Name, *hostname)
	fmt.Fprintf(stderr, `In Telegraf (see docs/telegraf.md), with PROBITY_TOKEN set to the credential in Telegraf's environment:
  [[outputs.influxdb_v2]]
    urls = [%q]
    token = "${PROBITY_TOKEN}"
    organization = %q
    bucket = "probity"
    content_encoding = "gzip"
`, c.config.BaseURL(), site.ID)
	fmt.Fprintln(stderr, "Once it sends, `probity-collector agent list` shows its last write and Telegraf's version.")
	return nil
}
