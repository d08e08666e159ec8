package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

func testTrusts(t *testing.T, st store.Store) {
	ctx := context.Background()
	b, err := st.CreateTrust(ctx, "Beacon Academy Trust")
	if err != nil {
		t.Fatalf("CreateTrust: %v", err)
	}
	a, err := st.CreateTrust(ctx, "Aspire Learning Trust")
	if err != nil {
		t.Fatalf("CreateTrust: %v", err)
	}
	if a.ID == b.ID || a.ID == 0 || b.ID == 0 {
		t.Errorf("trust ids %d and %d: want distinct, non-zero", a.ID, b.ID)
	}
	_, err = st.CreateTrust(ctx, "Beacon Academy Trust")
	wantErr(t, "duplicate trust", err, store.ErrExists)

	got, err := st.TrustByName(ctx, "Beacon Academy Trust")
	if err != nil {
		t.Fatalf("TrustByName: %v", err)
	}
	if got.ID != b.ID || got.Name != b.Name || !got.Created.Equal(b.Created) {
		t.Errorf("TrustByName = %+v, want %+v", got, b)
	}
	_, err = st.TrustByName(ctx, "Nowhere Trust")
	wantErr(t, "unknown trust", err, store.ErrNotFound)

	all, err := st.Trusts(ctx)
	if err != nil {
		t.Fatalf("Trusts: %v", err)
	}
	if diff := cmp.Diff([]store.Trust{a, b}, all); diff != "" {
		t.Errorf("Trusts (-want +got):\n%s", diff)
	}
}

func testSites(t *testing.T, st store.Store) {
	ctx := context.Background()
	tr, err := st.CreateTrust(ctx, "Beacon Academy Trust")
	if err != nil {
		t.Fatalf("CreateTrust: %v", err)
	}
	given, err := st.CreateSite(ctx, store.Site{ID: "oak-primary", TrustID: tr.ID, Name: "Oak Primary", URN: "100001", Phase: "primary"})
	if err != nil {
		t.Fatalf("CreateSite with id: %v", err)
	}
	if given.ID != "oak-primary" || given.Created.IsZero() {
		t.Errorf("CreateSite = %+v, want id oak-primary and a creation time", given)
	}
	_, err = st.CreateSite(ctx, store.Site{ID: "oak-primary", TrustID: tr.ID, Name: "Another", Phase: "primary"})
	wantErr(t, "duplicate site id", err, store.ErrExists)
	_, err = st.CreateSite(ctx, store.Site{TrustID: tr.ID, Name: "Elm Primary", URN: "100001", Phase: "primary"})
	wantErr(t, "duplicate URN", err, store.ErrExists)
	_, err = st.CreateSite(ctx, store.Site{TrustID: tr.ID + 1000, Name: "Orphan", Phase: "primary"})
	wantErr(t, "unknown trust", err, store.ErrNotFound)

	for _, bad := range []store.Site{
		{TrustID: tr.ID, Name: "No Phase"},
		{TrustID: tr.ID, Name: "Odd Phase", Phase: "nursery"},
		{TrustID: tr.ID, Name: "", Phase: "primary"},
		{TrustID: tr.ID, ID: "Not A Slug", Name: "Bad Id", Phase: "primary"},
	} {
		if _, err := st.CreateSite(ctx, bad); err == nil || errors.Is(err, store.ErrExists) {
			t.Errorf("CreateSite(%+v) err = %v, want a validation error", bad, err)
		}
	}

	// Slugs from names, unique with a numeric suffix.
	var slugs []string
	for _, name := range []string{"St Mary's C of E Primary", "St Mary's C of E Primary", "  Ørsted / Academy!  ", "St Mary’s C of E Primary"} {
		s, err := st.CreateSite(ctx, store.Site{TrustID: tr.ID, Name: name, Phase: "secondary"})
		if err != nil {
			t.Fatalf("CreateSite(%q): %v", name, err)
		}
		slugs = append(slugs, s.ID)
	}
	wantSlugs := []string{"st-marys-c-of-e-primary", "st-marys-c-of-e-primary-2", "rsted-academy", "st-marys-c-of-e-primary-3"}
	if diff := cmp.Diff(wantSlugs, slugs); diff != "" {
		t.Errorf("slugs (-want +got):\n%s", diff)
	}

	for _, key := range []string{"oak-primary", "100001"} {
		got, err := st.Site(ctx, key)
		if err != nil {
			t.Fatalf("Site(%q): %v", key, err)
		}
		if diff := cmp.Diff(given, got); diff != "" {
			t.Errorf("Site(%q) (-want +got):\n%s", key, diff)
		}
	}
	for _, key := range []string{"", "nowhere", "999999"} {
		_, err := st.Site(ctx, key)
		wantErr(t, fmt.Sprintf("Site(%q)", key), err, store.ErrNotFound)
	}

	all, err := st.Sites(ctx)
	if err != nil {
		t.Fatalf("Sites: %v", err)
	}
	var ids []string
	for _, s := range all {
		ids = append(ids, s.ID)
	}
	want := []string{"oak-primary", "rsted-academy", "st-marys-c-of-e-primary", "st-marys-c-of-e-primary-2", "st-marys-c-of-e-primary-3"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("Sites ids (-want +got):\n%s", diff)
	}
	if s := stats(t, st); s.Sites != 5 {
		t.Errorf("Stats.Sites = %d, want 5", s.Sites)
	}
}

func testEnrolToken(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	if f.agent.SiteID != "oak" || f.agent.ID == "" || !f.agent.Created.Equal(t0) {
		t.Errorf("enrolled agent = %+v, want site oak, an id, created at t0", f.agent)
	}

	err := st.CreateEnrolToken(ctx, "nowhere", store.HashSecret("x"), t0.Add(time.Hour))
	wantErr(t, "token for unknown site", err, store.ErrNotFound)

	tok := store.HashSecret("tok-1")
	expires := t0.Add(24 * time.Hour)
	if err := st.CreateEnrolToken(ctx, "oak", tok, expires); err != nil {
		t.Fatalf("CreateEnrolToken: %v", err)
	}
	// At the expiry instant the token is already dead.
	_, err = st.ConsumeEnrolToken(ctx, tok, store.Agent{}, store.HashSecret("c1"), expires)
	wantErr(t, "expired token", err, store.ErrTokenInvalid)
	_, err = st.ConsumeEnrolToken(ctx, store.HashSecret("never issued"), store.Agent{}, store.HashSecret("c1"), t0)
	wantErr(t, "unknown token", err, store.ErrTokenInvalid)

	a, err := st.ConsumeEnrolToken(ctx, tok, store.Agent{ID: "agent-given", Hostname: "h1", Version: "2.0"},
		store.HashSecret("c1"), expires.Add(-time.Nanosecond))
	if err != nil {
		t.Fatalf("ConsumeEnrolToken just before expiry: %v", err)
	}
	if a.ID != "agent-given" || a.SiteID != "oak" || a.Hostname != "h1" || a.Version != "2.0" || a.Revoked || !a.LastSeen.IsZero() {
		t.Errorf("agent = %+v", a)
	}
	_, err = st.ConsumeEnrolToken(ctx, tok, store.Agent{}, store.HashSecret("c2"), t0)
	wantErr(t, "used token", err, store.ErrTokenInvalid)

	// A failed enrolment (the credential is taken) leaves the token unused.
	tok2 := store.HashSecret("tok-2")
	if err := st.CreateEnrolToken(ctx, "oak", tok2, expires); err != nil {
		t.Fatalf("CreateEnrolToken: %v", err)
	}
	_, err = st.ConsumeEnrolToken(ctx, tok2, store.Agent{}, store.HashSecret("c1"), t0)
	if err == nil || errors.Is(err, store.ErrTokenInvalid) {
		t.Errorf("enrolment with a taken credential: err = %v, want a failure other than ErrTokenInvalid", err)
	}
	b, err := st.ConsumeEnrolToken(ctx, tok2, store.Agent{}, store.HashSecret("c3"), t0)
	if err != nil {
		t.Fatalf("token after a failed enrolment: %v", err)
	}
	if b.ID == "" || b.ID == a.ID || b.ID == f.agent.ID {
		t.Errorf("generated agent id %q: want a fresh one", b.ID)
	}
	if s := stats(t, st); s.Agents != 3 {
		t.Errorf("Stats.Agents = %d, want 3", s.Agents)
	}
}

func testEnrolTokenConcurrent(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	tok := store.HashSecret("contested")
	if err := st.CreateEnrolToken(ctx, f.site.ID, tok, t0.Add(time.Hour)); err != nil {
		t.Fatalf("CreateEnrolToken: %v", err)
	}
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = st.ConsumeEnrolToken(ctx, tok, store.Agent{Hostname: fmt.Sprint("h", i)},
				store.HashSecret(fmt.Sprint("cred", i)), t0)
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrTokenInvalid):
			t.Errorf("consumer %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d consumers won the token, want exactly 1", won)
	}
	agents, err := st.Agents(ctx, f.site.ID)
	if err != nil {
		t.Fatalf("Agents: %v", err)
	}
	if len(agents) != 2 { // the fixture's and the winner
		t.Errorf("site has %d agents, want 2", len(agents))
	}
}

func testCredentials(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	other := newFixture(t, st, "elm")

	got, err := st.AgentByCredential(ctx, store.HashSecret("cred-host-oak"))
	if err != nil {
		t.Fatalf("AgentByCredential: %v", err)
	}
	if diff := cmp.Diff(f.agent, got); diff != "" {
		t.Errorf("AgentByCredential (-want +got):\n%s", diff)
	}
	_, err = st.AgentByCredential(ctx, store.HashSecret("unknown"))
	wantErr(t, "unknown credential", err, store.ErrNotFound)

	list, err := st.Agents(ctx, "oak")
	if err != nil {
		t.Fatalf("Agents: %v", err)
	}
	if diff := cmp.Diff([]store.Agent{f.agent}, list); diff != "" {
		t.Errorf("Agents(oak) (-want +got):\n%s", diff)
	}

	if err := st.RevokeAgent(ctx, f.agent.ID); err != nil {
		t.Fatalf("RevokeAgent: %v", err)
	}
	wantErr(t, "revoke unknown agent", st.RevokeAgent(ctx, "nobody"), store.ErrNotFound)
	got, err = st.AgentByCredential(ctx, store.HashSecret("cred-host-oak"))
	if err != nil {
		t.Fatalf("AgentByCredential after revocation: %v", err)
	}
	if !got.Revoked {
		t.Errorf("revoked agent reads back with Revoked=false")
	}
	o, err := st.AgentByCredential(ctx, store.HashSecret("cred-host-elm"))
	if err != nil || o.Revoked || o.ID != other.agent.ID {
		t.Errorf("other site's agent = %+v, %v; want %s, not revoked", o, err, other.agent.ID)
	}
}

func testAgentAddress(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	newFixture(t, st, "elm")
	if f.agent.LastAddress != "" || !f.agent.LastSeenAddressAt.IsZero() {
		t.Errorf("new agent has address %q at %v, want none", f.agent.LastAddress, f.agent.LastSeenAddressAt)
	}
	byCred := func(host string) store.Agent {
		t.Helper()
		a, err := st.AgentByCredential(ctx, store.HashSecret("cred-"+host))
		if err != nil {
			t.Fatalf("AgentByCredential: %v", err)
		}
		return a
	}

	at := t0.Add(90 * time.Second)
	if err := st.SetAgentAddress(ctx, f.agent.ID, "203.0.113.7", at); err != nil {
		t.Fatalf("SetAgentAddress: %v", err)
	}
	got := byCred("host-oak")
	if got.LastAddress != "203.0.113.7" || !got.LastSeenAddressAt.Equal(at) {
		t.Errorf("after SetAgentAddress: address %q at %v, want 203.0.113.7 at %v", got.LastAddress, got.LastSeenAddressAt, at)
	}
	if o := byCred("host-elm"); o.LastAddress != "" {
		t.Errorf("other agent's address = %q, want none", o.LastAddress)
	}
	wantErr(t, "address of unknown agent", st.SetAgentAddress(ctx, "nobody", "203.0.113.7", at), store.ErrNotFound)

	// A write with an address records it with the write's time; one without
	// leaves the last address alone.
	at2 := t0.Add(time.Hour)
	if _, err := st.WriteBatch(ctx, store.Batch{ID: "addr-0001", Agent: f.agent, Address: "2001:db8::1",
		Points: stamp(f.agent, []point.Point{ping("gw", t0, 1, 1, true)})}, at2); err != nil {
		t.Fatalf("WriteBatch with address: %v", err)
	}
	got = byCred("host-oak")
	if got.LastAddress != "2001:db8::1" || !got.LastSeenAddressAt.Equal(at2) || !got.LastSeen.Equal(at2) {
		t.Errorf("after a write: address %q at %v (last seen %v), want 2001:db8::1 at %v", got.LastAddress, got.LastSeenAddressAt, got.LastSeen, at2)
	}
	at3 := at2.Add(time.Minute)
	write(t, st, f.agent, "addr-0002", at3, []point.Point{ping("gw", t0.Add(time.Second), 1, 1, true)})
	got = byCred("host-oak")
	if got.LastAddress != "2001:db8::1" || !got.LastSeenAddressAt.Equal(at2) || !got.LastSeen.Equal(at3) {
		t.Errorf("after a write without address: address %q at %v (last seen %v), want 2001:db8::1 at %v, last seen %v",
			got.LastAddress, got.LastSeenAddressAt, got.LastSeen, at2, at3)
	}
	list, err := st.Agents(ctx, "oak")
	if err != nil || len(list) != 1 || list[0].LastAddress != "2001:db8::1" {
		t.Errorf("Agents(oak) = %+v, %v; want the one agent with its address", list, err)
	}
}
