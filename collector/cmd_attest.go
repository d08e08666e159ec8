package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// Attestations and the admin tokens that let people record them over the
// API: the CLI writes straight to the store, so it needs none.

// attestFlags maps the API's field names to this command's flags, so a
// validation error names what the user typed.
var attestFlags = map[string]string{"requirement": "--req", "by": "--by", "role": "--role", "note": "--note", "link": "--link", "date": "--at"}

func cmdAttest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var siteID, req, by, role, note, link, at *string
	_, st, err := setup(ctx, "attest", args, stdout, stderr, func(fs *pflag.FlagSet) {
		siteID = fs.String("site", "", "site id or URN (required)")
		req = fs.String("req", "", "requirement id, e.g. DL-1 (required)")
		by = fs.String("by", "", "name of the person attesting (required)")
		role = fs.String("role", "", "their role, e.g. headteacher")
		note = fs.String("note", "", "the statement: what the evidence is (required)")
		link = fs.String("link", "", "where the evidence is kept (http or https)")
		at = fs.String("at", "", "date of the evidence, YYYY-MM-DD (default now)")
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
	in := api.AttestationInput{Requirement: *req, By: *by, Role: *role, Note: *note, Link: *link, Date: *at}
	now := time.Now()
	a, err := in.Attestation(standards.Default(), site, now)
	var fe api.FieldErrors
	if errors.As(err, &fe) {
		msgs := make([]string, len(fe))
		for i, e := range fe {
			msgs[i] = attestFlags[e.Field] + ": " + e.Message
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	if err != nil {
		return err
	}
	a.RecordedBy, a.RecordedAt = cliUser(), now
	a, err = st.AddAttestation(ctx, a)
	if err != nil {
		return err
	}
	who := a.By
	if a.Role != "" {
		who += " (" + a.Role + ")"
	}
	fmt.Fprintf(stdout, "Attestation %d recorded for %s at %s by %s; it expires on %s.\n", a.ID, a.ReqID, site.ID, who, a.Expires.Format("2 January 2006"))
	if hist, err := st.AttestationHistory(ctx, site.ID, a.ReqID); err == nil {
		for _, h := range hist {
			if h.SupersededBy == a.ID {
				fmt.Fprintf(stdout, "It supersedes attestation %d by %s of %s, which stays in the history.\n", h.ID, h.By, h.At.Format("2 January 2006"))
			}
		}
	}
	return nil
}

// cliUser names who recorded an attestation from the command line.
func cliUser() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		name += "@" + h
	}
	return "command line (" + name + ")"
}

func cmdAttestations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var siteID, req *string
	var history *bool
	_, st, err := setup(ctx, "attestations", args, stdout, stderr, func(fs *pflag.FlagSet) {
		siteID = fs.String("site", "", "site id or URN (required)")
		req = fs.String("req", "", "only this requirement")
		history = fs.Bool("history", false, "include superseded attestations")
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
	id := strings.ToUpper(*req)
	var as []store.Attestation
	if *history {
		as, err = st.AttestationHistory(ctx, site.ID, id)
	} else {
		as, err = st.Attestations(ctx, site.ID)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREQUIREMENT\tBY\tROLE\tDATE\tEXPIRES\tSTATUS\tSTATEMENT")
	n := 0
	for _, a := range as {
		if id != "" && a.ReqID != id {
			continue
		}
		n++
		status := "current"
		switch {
		case !a.Current():
			status = fmt.Sprintf("superseded by %d on %s", a.SupersededBy, a.SupersededAt.Format(time.DateOnly))
		case !now.Before(a.Expires):
			status = "expired"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.ReqID, a.By, dash(a.Role),
			a.At.Format(time.DateOnly), a.Expires.Format(time.DateOnly), status, oneLine(a.Note, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintf(stderr, "No attestations for %s yet: `probity-collector attest --site %s --req ID --by NAME --note TEXT`.\n", site.ID, site.ID)
	}
	return nil
}

// oneLine shortens s to max runes on one line, for a table cell.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func cmdAdminToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name, revoke *string
	var list *bool
	c, st, err := setup(ctx, "admin token", args, stdout, stderr, func(fs *pflag.FlagSet) {
		name = fs.String("name", "", "who holds the new token; shown as who recorded what it writes (required to create)")
		revoke = fs.String("revoke", "", "revoke the token with this name")
		list = fs.Bool("list", false, "list tokens (names and dates, never the tokens)")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	switch {
	case *list:
		ts, err := st.AdminTokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCREATED\tREVOKED")
		for _, t := range ts {
			revoked := "-"
			if !t.Revoked.IsZero() {
				revoked = t.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Created.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case *revoke != "":
		if err := st.RevokeAdminToken(ctx, *revoke, time.Now()); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no valid admin token named %q (see `probity-collector admin token --list`)", *revoke)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Admin token %q revoked.\n", *revoke)
		return nil
	case strings.TrimSpace(*name) == "":
		return fmt.Errorf("--name is required: who will hold the token, e.g. --name \"J Smith, IT lead\"")
	}
	token := api.NewSecret()
	err = st.CreateAdminToken(ctx, store.AdminToken{Name: strings.TrimSpace(*name), Hash: store.HashSecret(token), Created: time.Now()})
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("an admin token named %q exists: revoke it first with --revoke, or choose another name", *name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(stderr, "Admin token for %q. It is shown only this once; the collector keeps only its hash. Use it as\n  curl -H 'Authorization: Bearer %s' -d '{\"requirement\":\"DL-1\",\"by\":\"...\",\"note\":\"...\"}' %s/api/v1/sites/SITE/attestations\n",
		strings.TrimSpace(*name), token, c.config.BaseURL())
	return nil
}
