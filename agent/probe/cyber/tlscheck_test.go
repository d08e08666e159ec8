package cyber

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// tcCA issues the certificates of the TLS tests.
type tcCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

var tcSerial int64

func tcNewCA(t *testing.T) *tcCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tcSerial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(tcSerial),
		Subject:               pkix.Name{CommonName: "Probity Test School CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &tcCA{cert: cert, key: key, der: der}
}

// file writes the CA certificate as PEM for ca_file.
func (ca *tcCA) file(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue makes a server certificate for names (DNS names or IPs) valid
// from notBefore to notAfter.
func (ca *tcCA) issue(t *testing.T, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tcSerial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(tcSerial),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.der}, PrivateKey: key}
}

// tcServe serves cert on 127.0.0.1 with versions lo..hi.
func tcServe(t *testing.T, cert tls.Certificate, lo, hi uint16) string {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: lo, MaxVersion: hi}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused versions are expected here
	s.StartTLS()
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

func TestTLSServers(t *testing.T) {
	ca := tcNewCA(t)
	now := time.Now()
	names := []string{"school.test", "127.0.0.1"}
	good := ca.issue(t, names, now.Add(-24*time.Hour), now.Add(200*24*time.Hour))
	expired := ca.issue(t, names, now.Add(-400*24*time.Hour), now.Add(-3*24*time.Hour))
	soon := ca.issue(t, names, now.Add(-24*time.Hour), now.Add(10*24*time.Hour+time.Hour))
	wrong := ca.issue(t, []string{"other.test"}, now.Add(-24*time.Hour), now.Add(200*24*time.Hour))

	modern := tcServe(t, good, tls.VersionTLS12, tls.VersionTLS13)
	legacy := tcServe(t, good, tls.VersionTLS10, tls.VersionTLS13)
	only10 := tcServe(t, good, tls.VersionTLS10, tls.VersionTLS10)
	expiredAddr := tcServe(t, expired, tls.VersionTLS12, tls.VersionTLS13)
	soonAddr := tcServe(t, soon, tls.VersionTLS12, tls.VersionTLS13)
	wrongAddr := tcServe(t, wrong, tls.VersionTLS12, tls.VersionTLS13)
	closed := func() string { // a port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := l.Addr().String()
		l.Close()
		return a
	}()

	c := TLSConfig{CAFile: ca.file(t), Targets: []TLSTarget{
		{Name: "modern", URL: "https://" + modern + "/login"},
		{Name: "modern-sni", Address: modern, ServerName: "school.test"},
		{Name: "legacy", Address: legacy, ServerName: "school.test"},
		{Name: "only10", Address: only10},
		{Name: "expired", Address: expiredAddr, ServerName: "school.test"},
		{Name: "soon", Address: soonAddr},
		{Name: "wrongname", Address: wrongAddr, ServerName: "school.test"},
		{Name: "closed", Address: closed},
	}}
	noCA := TLSConfig{Targets: []TLSTarget{{Name: "unknown", Address: modern, ServerName: "school.test"}}}
	got := map[string]Result{}
	for _, cc := range []TLSConfig{c, noCA} {
		if err := cc.validate(); err != nil {
			t.Fatal(err)
		}
		ch, err := cc.build(probe.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		rs := ch.run(context.Background(), &env{cfg: Config{VLAN: "staff", Timeout: 3 * time.Second}, deps: probe.Deps{}.WithDefaults()})
		if len(rs) != len(cc.Targets) {
			t.Fatalf("%d results for %d targets", len(rs), len(cc.Targets))
		}
		for _, r := range rs {
			if r.Check != CheckTLS {
				t.Errorf("check %q", r.Check)
			}
			got["tls "+r.Target] = r
		}
	}
	for k, r := range got {
		t.Logf("%s: ok=%v finding=%v %s %s | fix: %s | %v", k, r.OK, r.Finding, r.Severity, r.Detail, r.Fix, r.Fields)
	}

	H, M := SeverityHigh, SeverityMedium
	clean := map[string]any{"chain_ok": true, "tls10": false, "tls11": false, "max_version": "TLS 1.3", "days_left": int64(199)}
	wantRes(t, got, "tls modern", true, false, "", clean, "TLS 1.0 and 1.1 refused")
	wantRes(t, got, "tls modern-sni", true, false, "", clean, "valid certificate with 199 days left")
	wantRes(t, got, "tls legacy", true, true, M, map[string]any{"chain_ok": true, "tls10": true, "tls11": true, "max_version": "TLS 1.3"}, "accepts TLS 1.0 and TLS 1.1")
	wantRes(t, got, "tls only10", true, true, M, map[string]any{"chain_ok": true, "tls10": true, "tls11": false, "max_version": "TLS 1.0"}, "accepts TLS 1.0")
	wantRes(t, got, "tls expired", true, true, H, map[string]any{"chain_ok": false, "chain_error": "expired", "days_left": int64(-3), "tls10": false}, "expired on")
	wantRes(t, got, "tls soon", true, true, M, map[string]any{"chain_ok": true, "days_left": int64(10)}, "expires in 10 days")
	wantRes(t, got, "tls wrongname", true, true, H, map[string]any{"chain_ok": false, "chain_error": "name mismatch"}, "name mismatch")
	wantRes(t, got, "tls unknown", true, true, H, map[string]any{"chain_ok": false, "chain_error": "unknown authority", "tls10": false}, "unknown authority")
	wantRes(t, got, "tls closed", false, false, "", map[string]any{"result": "refused"}, "No TLS handshake")
	if !strings.Contains(got["tls wrongname"].Fix, "school.test") {
		t.Errorf("wrongname fix does not name school.test: %q", got["tls wrongname"].Fix)
	}
	if c := got["tls modern"].Fields["cipher"]; c != "TLS_AES_128_GCM_SHA256" && c != "TLS_AES_256_GCM_SHA384" && c != "TLS_CHACHA20_POLY1305_SHA256" {
		t.Errorf("modern cipher %v", c)
	}
}

// TestTLSWarnDays: warn_days decides when a valid certificate's expiry
// becomes a finding.
func TestTLSWarnDays(t *testing.T) {
	ca := tcNewCA(t)
	now := time.Now()
	addr := tcServe(t, ca.issue(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(50*24*time.Hour+time.Hour)), tls.VersionTLS12, tls.VersionTLS13)
	file := ca.file(t)
	for _, tc := range []struct {
		warn    int
		finding bool
	}{{0, false}, {60, true}} {
		c := TLSConfig{CAFile: file, WarnDays: tc.warn, Targets: []TLSTarget{{Address: addr}}}
		ch, err := c.build(probe.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		rs := ch.run(context.Background(), &env{cfg: Config{VLAN: "staff", Timeout: 3 * time.Second}, deps: probe.Deps{}.WithDefaults()})
		r := rs[0]
		if r.Target != addr || r.Finding != tc.finding || r.Fields["days_left"] != int64(50) {
			t.Errorf("warn_days %d: target %s finding=%v days_left=%v (%s)", tc.warn, r.Target, r.Finding, r.Fields["days_left"], r.Detail)
		}
	}
}

func TestTLSValidate(t *testing.T) {
	for _, tc := range []struct {
		c    TLSConfig
		want []string
	}{
		{TLSConfig{}, []string{"targets"}},
		{TLSConfig{Targets: []TLSTarget{{URL: "https://school.example/"}}}, nil},
		{TLSConfig{Targets: []TLSTarget{{}}}, []string{"targets[0]"}},
		{TLSConfig{Targets: []TLSTarget{{URL: "https://a.example", Address: "a.example:443"}}}, []string{"targets[0]"}},
		{TLSConfig{Targets: []TLSTarget{{URL: "http://a.example"}, {Address: "a.example"}}}, []string{"targets[0].url", "targets[1].address"}},
		{TLSConfig{Targets: []TLSTarget{{URL: "https://a.example"}, {Address: "a.example:443"}}}, []string{"targets[1].name"}},
		{TLSConfig{WarnDays: -1, CAFile: "/nonexistent/ca.pem", Targets: []TLSTarget{{Address: "a.example:993"}}}, []string{"ca_file", "warn_days"}},
	} {
		if got := cfgerr.Paths(tc.c.validate()); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: error paths %v, want %v", tc.c, got, tc.want)
		}
	}
}
