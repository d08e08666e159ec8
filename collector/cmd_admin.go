package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/store"
)

func cmdTrustAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, st, err := setup(ctx, "trust add", args, stdout, stderr, nil)
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	name := strings.TrimSpace(strings.Join(c.flags.Args(), " "))
	if name == "" {
		return fmt.Errorf("usage: probity-collector trust add NAME")
	}
	t, err := st.CreateTrust(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trust %q created (id %d).\n", t.Name, t.ID)
	return nil
}

func cmdSiteAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var trust, name, urn, phase, id *string
	c, st, err := setup(ctx, "site add", args, stdout, stderr, func(fs *pflag.FlagSet) {
		trust = fs.String("trust", "", "trust name (required)")
		name = fs.String("name", "", "school name (required)")
		urn = fs.String("urn", "", "DfE unique reference number")
		phase = fs.String("phase", "", "primary, secondary, all-through, special or fe (required)")
		id = fs.String("id", "", "short id used in URLs (default: from the name)")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	_ = c
	if *trust == "" || *name == "" || *phase == "" {
		return fmt.Errorf("--trust, --name and --phase are required")
	}
	t, err := st.TrustByName(ctx, *trust)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no trust named %q: create it first with `probity-collector trust add %q`", *trust, *trust)
	}
	if err != nil {
		return err
	}
	s, err := st.CreateSite(ctx, store.Site{ID: *id, TrustID: t.ID, Name: *name, URN: *urn, Phase: *phase})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Site %q added to trust %q with id %s (phase %s).\nNext: `probity-collector agent token --site %s`\n", s.Name, t.Name, s.ID, s.Phase, s.ID)
	return nil
}

func cmdSiteList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, st, err := setup(ctx, "site list", args, stdout, stderr, nil)
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	sites, err := st.Sites(ctx)
	if err != nil {
		return err
	}
	trusts, err := st.Trusts(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, t := range trusts {
		names[t.ID] = t.Name
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tURN\tPHASE\tTRUST\tAGENTS\tLAST ADDRESS")
	for _, s := range sites {
		agents, err := st.Agents(ctx, s.ID)
		if err != nil {
			return err
		}
		// The address the site's agents were most recently seen from.
		var last store.Agent
		for _, a := range agents {
			if a.LastSeenAddressAt.After(last.LastSeenAddressAt) {
				last = a
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.ID, s.Name, dash(s.URN), s.Phase, names[s.TrustID], len(agents), addressAt(last))
	}
	return tw.Flush()
}

// addressAt is an agent's last address and when, or "-".
func addressAt(a store.Agent) string {
	if a.LastAddress == "" {
		return "-"
	}
	return a.LastAddress + " at " + a.LastSeenAddressAt.UTC().Format(time.RFC3339)
}

func cmdAgentList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var siteID *string
	_, st, err := setup(ctx, "agent list", args, stdout, stderr, func(fs *pflag.FlagSet) {
		siteID = fs.String("site", "", "only this site (id or URN)")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	var sites []store.Site
	if *siteID != "" {
		s, err := st.Site(ctx, *siteID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no site %q (see `probity-collector site list`)", *siteID)
		}
		if err != nil {
			return err
		}
		sites = []store.Site{s}
	} else if sites, err = st.Sites(ctx); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AGENT\tSITE\tHOSTNAME\tVERSION\tENROLLED\tLAST WRITE\tLAST ADDRESS\tREVOKED")
	for _, s := range sites {
		agents, err := st.Agents(ctx, s.ID)
		if err != nil {
			return err
		}
		for _, a := range agents {
			lastWrite := "-"
			if !a.LastSeen.IsZero() {
				lastWrite = a.LastSeen.UTC().Format(time.RFC3339)
			}
			revoked := "no"
			if a.Revoked {
				revoked = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.SiteID, dash(a.Hostname), dash(a.Version),
				a.Created.UTC().Format(time.RFC3339), lastWrite, addressAt(a), revoked)
		}
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdAgentToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var siteID *string
	var ttl *time.Duration
	c, st, err := setup(ctx, "agent token", args, stdout, stderr, func(fs *pflag.FlagSet) {
		siteID = fs.String("site", "", "site id or URN (required)")
		ttl = fs.Duration("ttl", 0, "how long the token stays valid (default enrolment.token_ttl)")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	if *siteID == "" {
		return fmt.Errorf("--site is required")
	}
	site, err := st.Site(ctx, *siteID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no site %q (see `probity-collector site list`)", *siteID)
	}
	if err != nil {
		return err
	}
	life := c.config.Enrolment.TokenTTL
	if *ttl > 0 {
		life = *ttl
	}
	token := api.NewSecret()
	expires := time.Now().Add(life)
	if err := st.CreateEnrolToken(ctx, site.ID, store.HashSecret(token), expires); err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(stderr, "One-time token for site %s (%s), valid until %s. On the agent run:\n  probity-agent enrol --collector %s --token %s\n",
		site.ID, site.Name, expires.Format(time.RFC3339), c.config.BaseURL(), token)
	return nil
}
