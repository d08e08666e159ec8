package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/store"
)

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// readPassword reads one line from stdin, or generates a password when
// fromStdin is false; generated says which, so it can be shown once.
func readPassword(fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		return auth.GeneratePassword(), true, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("reading the password from stdin: %w", err)
	}
	pw = strings.TrimRight(line, "\r\n")
	if err := auth.CheckPasswordPolicy(pw); err != nil {
		return "", false, fmt.Errorf("--password-stdin: %w", err)
	}
	return pw, false, nil
}

func cmdUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name, role, trust, site *string
	var fromStdin *bool
	c, st, err := setup(ctx, "user add", args, stdout, stderr, func(fs *pflag.FlagSet) {
		name = fs.String("name", "", "what the person signs in with (required)")
		role = fs.String("role", "", "trust_admin (every school of a trust: read, attest, review) or school_viewer (one school, read only) (required)")
		trust = fs.String("trust", "", "trust_admin: the trust's name or id; omit for every trust (the collector's operator)")
		site = fs.String("site", "", "school_viewer: the school's id or URN (required for that role)")
		fromStdin = fs.Bool("password-stdin", false, "read the password from the first line of stdin instead of generating one")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	u := store.User{Name: strings.TrimSpace(*name), Role: *role}
	switch {
	case u.Name == "":
		return fmt.Errorf("--name is required")
	case !slices.Contains(store.Roles, u.Role):
		return fmt.Errorf("--role must be %s, not %q", strings.Join(store.Roles, " or "), u.Role)
	case u.Role == store.RoleSchoolViewer && *site == "":
		return fmt.Errorf("--role school_viewer needs --site: the one school this person may read")
	case u.Role == store.RoleSchoolViewer && *trust != "":
		return fmt.Errorf("--trust is for trust_admin; a school_viewer sees the one school of --site")
	case u.Role == store.RoleTrustAdmin && *site != "":
		return fmt.Errorf("--site is for school_viewer; a trust_admin sees every school of --trust (or of every trust without it)")
	}
	if *trust != "" {
		t, err := findTrust(ctx, st, *trust)
		if err != nil {
			return err
		}
		u.TrustID = t.ID
	}
	if *site != "" {
		s, err := st.Site(ctx, *site)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no site %q (see `probity-collector site list`)", *site)
		}
		if err != nil {
			return err
		}
		u.SiteID = s.ID
	}
	pw, generated, err := readPassword(*fromStdin)
	if err != nil {
		return err
	}
	if u.PasswordHash, err = auth.HashPassword(pw); err != nil {
		return err
	}
	created, err := st.CreateUser(ctx, u)
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("a user named %q exists: choose another name, or `probity-collector user passwd --name %q`", u.Name, u.Name)
	}
	u = created
	if err != nil {
		return err
	}
	scope := "every trust"
	switch {
	case u.SiteID != "":
		scope = "school " + u.SiteID
	case u.TrustID != 0:
		scope = "trust " + *trust
	}
	fmt.Fprintf(stdout, "User %q added as %s of %s.\n", u.Name, u.Role, scope)
	if generated {
		fmt.Fprintf(stdout, "Password (shown only this once): %s\n", pw)
	}
	fmt.Fprintf(stdout, "Sign in at %s/login\n", c.config.BaseURL())
	return nil
}

// findTrust finds a trust by exact name or by id.
func findTrust(ctx context.Context, st store.Store, nameOrID string) (store.Trust, error) {
	ts, err := st.Trusts(ctx)
	if err != nil {
		return store.Trust{}, err
	}
	for _, t := range ts {
		if t.Name == nameOrID || strconv.FormatInt(t.ID, 10) == nameOrID {
			return t, nil
		}
	}
	return store.Trust{}, fmt.Errorf("no trust %q by name or id (create it with `probity-collector trust add NAME`)", nameOrID)
}

func cmdUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, st, err := setup(ctx, "user list", args, stdout, stderr, nil)
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	us, err := st.Users(ctx)
	if err != nil {
		return err
	}
	ts, err := st.Trusts(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tCREATED\tDISABLED")
	for _, u := range us {
		scope := "every trust"
		switch {
		case u.Role == store.RoleSchoolViewer:
			scope = "school " + u.SiteID
		case u.TrustID != 0:
			scope = "trust " + names[u.TrustID]
		}
		disabled := "no"
		if u.Disabled {
			disabled = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, scope, u.CreatedAt.UTC().Format(time.RFC3339), disabled)
	}
	if len(us) == 0 {
		fmt.Fprintln(stderr, "No users yet: `probity-collector user add --name N --role trust_admin --trust T`.")
	}
	return tw.Flush()
}

func cmdUserPasswd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name *string
	var fromStdin *bool
	_, st, err := setup(ctx, "user passwd", args, stdout, stderr, func(fs *pflag.FlagSet) {
		name = fs.String("name", "", "the user (required)")
		fromStdin = fs.Bool("password-stdin", false, "read the new password from the first line of stdin instead of generating one")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	if strings.TrimSpace(*name) == "" {
		return fmt.Errorf("--name is required")
	}
	if _, err := st.UserByName(ctx, *name); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q (see `probity-collector user list`)", *name)
	} else if err != nil {
		return err
	}
	pw, generated, err := readPassword(*fromStdin)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	if err := st.SetUserPassword(ctx, *name, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Password of %q changed; their sessions are signed out.\n", *name)
	if generated {
		fmt.Fprintf(stdout, "Password (shown only this once): %s\n", pw)
	}
	return nil
}

func cmdUserDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name *string
	_, st, err := setup(ctx, "user disable", args, stdout, stderr, func(fs *pflag.FlagSet) {
		name = fs.String("name", "", "the user (required)")
	})
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	if strings.TrimSpace(*name) == "" {
		return fmt.Errorf("--name is required")
	}
	if err := st.DisableUser(ctx, *name); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q (see `probity-collector user list`)", *name)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "User %q disabled and signed out; their name stays in the records they made.\n", *name)
	return nil
}
