package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/store/sqlite"
)

func TestUserCLI(t *testing.T) {
	c := newCLI(t)
	c.ok(cmdTrustAdd, "Beech Trust")
	out := c.ok(cmdUserAdd, "--name", "ann", "--role", "trust_admin", "--trust", "Acorn Trust")
	m := regexp.MustCompile(`Password \(shown only this once\): (\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, `User "ann" added as trust_admin of trust Acorn Trust`) {
		t.Fatalf("user add: %q", out)
	}
	generated := m[1]
	old := stdin
	t.Cleanup(func() { stdin = old })
	stdin = strings.NewReader("a password typed in\n")
	out = c.ok(cmdUserAdd, "--name", "gov", "--role", "school_viewer", "--site", "oak", "--password-stdin")
	if strings.Contains(out, "Password") {
		t.Errorf("a password given on stdin was printed: %q", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "x", "--role", "school_viewer"}, "needs --site"},
		{[]string{"--name", "x", "--role", "trust_admin", "--trust", "Nope"}, `no trust "Nope"`},
		{[]string{"--name", "x", "--role", "school_viewer", "--site", "nowhere"}, `no site "nowhere"`},
		{[]string{"--name", "x", "--role", "trust_admin", "--site", "oak"}, "--site is for school_viewer"},
		{[]string{"--name", "x", "--role", "boss"}, "--role must be trust_admin or school_viewer"},
		{[]string{"--name", "ann", "--role", "trust_admin"}, `a user named "ann" exists`},
		{[]string{"--role", "trust_admin"}, "--name is required"},
	} {
		if _, _, err := c.run(cmdUserAdd, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("user add %v: %v, want %q", tc.args, err, tc.want)
		}
	}
	stdin = strings.NewReader("short\n")
	if _, _, err := c.run(cmdUserAdd, "--name", "y", "--role", "trust_admin", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "12 to 1024 characters") {
		t.Errorf("short password: %v", err)
	}
	list := c.ok(cmdUserList)
	if !regexp.MustCompile(`ann\s+trust_admin\s+trust Acorn Trust`).MatchString(list) || !regexp.MustCompile(`gov\s+school_viewer\s+school oak\s+\S+\s+no`).MatchString(list) {
		t.Errorf("user list:\n%s", list)
	}
	// The stored hash verifies the printed password, and passwd replaces it.
	check := func(name, pw string) bool {
		t.Helper()
		st, err := sqlite.Open(context.Background(), filepath.Join(filepath.Dir(c.cfg), "data", "probity.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		u, err := st.UserByName(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := auth.VerifyPassword(u.PasswordHash, pw)
		return ok && err == nil
	}
	if !check("ann", generated) || !check("gov", "a password typed in") {
		t.Error("stored hashes do not verify the passwords given")
	}
	out = c.ok(cmdUserPasswd, "--name", "ann")
	m = regexp.MustCompile(`Password \(shown only this once\): (\S+)`).FindStringSubmatch(out)
	if m == nil || m[1] == generated || !check("ann", m[1]) || check("ann", generated) {
		t.Errorf("passwd: %q", out)
	}
	if _, _, err := c.run(cmdUserPasswd, "--name", "zed"); err == nil || !strings.Contains(err.Error(), `no user "zed"`) {
		t.Errorf("passwd of nobody: %v", err)
	}
	c.ok(cmdUserDisable, "--name", "gov")
	if list := c.ok(cmdUserList); !regexp.MustCompile(`gov\s+school_viewer\s+school oak\s+\S+\s+yes`).MatchString(list) {
		t.Errorf("gov not shown disabled:\n%s", list)
	}
}
