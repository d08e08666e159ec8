package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/wire"
)

// whoami asks srv as the fixture's agent, with an optional X-Forwarded-For.
func (f *fixture) whoami(t *testing.T, base, cred, query, xff string) (int, wire.Whoami) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+wire.WhoamiPath+query, nil)
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var w wire.Whoami
	_ = json.NewDecoder(resp.Body).Decode(&w)
	return resp.StatusCode, w
}

func (f *fixture) agent(t *testing.T) store.Agent {
	t.Helper()
	a, err := f.st.AgentByCredential(context.Background(), store.HashSecret(f.cred))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// behindProxy serves the fixture's store with the given trusted proxies.
func (f *fixture) behindProxy(t *testing.T, trusted ...string) *httptest.Server {
	t.Helper()
	var ps []netip.Prefix
	for _, p := range trusted {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	s := &Server{Store: f.st, Catalogue: testCatalogue(), TrustedProxies: ps, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func TestWhoami(t *testing.T) {
	f := newFixture(t, 0)
	before := time.Now()
	code, w := f.whoami(t, f.srv.URL, f.cred, "", "")
	a := f.agent(t)
	if code != 200 || w.AgentID != a.ID || w.SiteID != "oak" || w.Address != "127.0.0.1" {
		t.Fatalf("whoami = %d %+v, want 200, agent %s of oak from 127.0.0.1", code, w, a.ID)
	}
	if a.LastAddress != "127.0.0.1" || a.LastSeenAddressAt.Before(before.Add(-time.Second)) {
		t.Errorf("stored address %q at %v, want 127.0.0.1 recorded just now", a.LastAddress, a.LastSeenAddressAt)
	}

	for _, cred := range []string{"", "not-a-credential"} {
		req, _ := http.NewRequest("GET", f.srv.URL+wire.WhoamiPath, nil)
		if cred != "" {
			req.Header.Set("Authorization", "Bearer "+cred)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" || len(e) != 1 || e["error"] == "" {
			t.Errorf("whoami with credential %q: %d %v, want 401 {\"error\"} with WWW-Authenticate", cred, resp.StatusCode, e)
		}
	}
}

func TestWhoamiIgnoresForwardedFromUntrustedPeer(t *testing.T) {
	f := newFixture(t, 0)
	// The loopback peer is not a trusted proxy here (the default: none).
	code, w := f.whoami(t, f.srv.URL, f.cred, "", "203.0.113.9")
	if code != 200 || w.Address != "127.0.0.1" {
		t.Fatalf("whoami with X-Forwarded-For from an untrusted peer = %d %+v, want the peer 127.0.0.1", code, w)
	}
	// A proxy list that does not cover the peer changes nothing.
	srv := f.behindProxy(t, "10.0.0.0/8")
	if _, w := f.whoami(t, srv.URL, f.cred, "", "203.0.113.9"); w.Address != "127.0.0.1" {
		t.Fatalf("peer outside trusted_proxies: address %q, want 127.0.0.1", w.Address)
	}
	if a := f.agent(t); a.LastAddress != "127.0.0.1" {
		t.Errorf("stored address %q, want 127.0.0.1", a.LastAddress)
	}
}

func TestWhoamiTrustedProxy(t *testing.T) {
	f := newFixture(t, 0)
	srv := f.behindProxy(t, "127.0.0.0/8", "10.0.0.0/8")
	for _, tc := range []struct{ xff, want string }{
		{"203.0.113.9", "203.0.113.9"},
		// The client may send anything left of the address the proxy saw.
		{"198.51.100.1, 203.0.113.9", "203.0.113.9"},
		// Walk past further trusted proxies.
		{"203.0.113.9, 10.1.1.1", "203.0.113.9"},
		{"", "127.0.0.1"},
	} {
		code, w := f.whoami(t, srv.URL, f.cred, "", tc.xff)
		if code != 200 || w.Address != tc.want {
			t.Errorf("X-Forwarded-For %q: %d %+v, want address %s", tc.xff, code, w, tc.want)
		}
	}
	f.whoami(t, srv.URL, f.cred, "", "203.0.113.9")
	if a := f.agent(t); a.LastAddress != "203.0.113.9" {
		t.Errorf("stored address %q, want the forwarded client 203.0.113.9", a.LastAddress)
	}
	// verify=1 (a speed-test server checking the credential) answers but
	// records nothing: the caller is not the agent.
	code, w := f.whoami(t, srv.URL, f.cred, "?verify=1", "198.51.100.77")
	if code != 200 || w.Address != "198.51.100.77" {
		t.Fatalf("verify: %d %+v", code, w)
	}
	if a := f.agent(t); a.LastAddress != "203.0.113.9" {
		t.Errorf("after ?verify=1 stored address %q, want it unchanged (203.0.113.9)", a.LastAddress)
	}
}

func TestWriteRecordsAddress(t *testing.T) {
	f := newFixture(t, 0)
	srv := f.behindProxy(t, "127.0.0.0/8")
	req, _ := http.NewRequest("POST", srv.URL+wire.WritePath, strings.NewReader("m a=1\n"))
	req.Header.Set("Authorization", "Bearer "+f.cred)
	req.Header.Set(wire.HeaderBatchID, "batch-addr-1")
	req.Header.Set("X-Forwarded-For", "2001:db8::7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("write: %d", resp.StatusCode)
	}
	a := f.agent(t)
	if a.LastAddress != "2001:db8::7" || a.LastSeenAddressAt.IsZero() || !a.LastSeenAddressAt.Equal(a.LastSeen) {
		t.Errorf("after a write: address %q at %v (last seen %v), want 2001:db8::7 at the write", a.LastAddress, a.LastSeenAddressAt, a.LastSeen)
	}
	// A plain write from loopback records loopback.
	if code, _ := f.write(t, f.cred, "batch-addr-2", []byte("m a=2\n"), false); code != 200 {
		t.Fatalf("write: %d", code)
	}
	if a := f.agent(t); a.LastAddress != "127.0.0.1" {
		t.Errorf("after a direct write: address %q, want 127.0.0.1", a.LastAddress)
	}
}

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer", "198.51.100.2:4000", []string{"203.0.113.9"}, "198.51.100.2"},
		{"trusted peer, no header", "10.0.0.1:4000", nil, "10.0.0.1"},
		{"trusted peer", "10.0.0.1:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed left part ignored", "10.0.0.1:4000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"chain of proxies", "10.0.0.1:4000", []string{"203.0.113.9, 10.9.9.9,10.8.8.8"}, "203.0.113.9"},
		{"header lines in order", "10.0.0.1:4000", []string{"1.2.3.4", "203.0.113.9, 10.2.2.2"}, "203.0.113.9"},
		{"all trusted: left-most", "10.0.0.1:4000", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"garbage stops the walk", "10.0.0.1:4000", []string{"203.0.113.9, unknown"}, "10.0.0.1"},
		{"garbage after a trusted hop", "10.0.0.1:4000", []string{"evil, 10.2.2.2"}, "10.2.2.2"},
		{"port on an entry", "10.0.0.1:4000", []string{"203.0.113.9:5555"}, "203.0.113.9"},
		{"ipv6 peer and client", "[fd00::1]:4000", []string{"2001:db8::9"}, "2001:db8::9"},
		{"ipv6 with port", "[fd00::1]:4000", []string{"[2001:db8::9]:80"}, "2001:db8::9"},
		{"mapped ipv4 peer", "[::ffff:10.0.0.1]:4000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"empty entries skipped", "10.0.0.1:4000", []string{"203.0.113.9, ,"}, "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r, trusted).String(); got != tc.want {
			t.Errorf("%s: clientAddr = %s, want %s", tc.name, got, tc.want)
		}
	}
}
