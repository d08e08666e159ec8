package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/testenv"
	"github.com/probity-edu/probity/internal/wire"
)

// running is a long-running command started in the background.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	stderr *testenv.SyncBuffer
	url    string
}

// start runs cmd until the test ends and waits for it to log its URL.
func start(t *testing.T, cmd func(context.Context, []string, io.Writer, io.Writer) error, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, cancel: cancel, done: make(chan error, 1), stderr: &testenv.SyncBuffer{}}
	go func() { r.done <- cmd(ctx, args, io.Discard, r.stderr) }()
	t.Cleanup(func() { r.stop() })
	re := regexp.MustCompile(`"url":"(https?://[^"]+)"`)
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(r.stderr.String()); m != nil {
			r.url = m[1]
			return r
		}
		select {
		case err := <-r.done:
			close(r.done)
			t.Fatalf("command ended before listening: %v\n%s", err, r.stderr.String())
		default:
		}
	}
	t.Fatalf("command never logged its URL:\n%s", r.stderr.String())
	return nil
}

// stop cancels the command and returns its error (once).
func (r *running) stop() error {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(30 * time.Second):
		r.t.Errorf("command did not stop")
		return nil
	}
}

// get reads the whole answer and keeps its first 1 MiB (a download's
// stream is counted, not kept).
func get(t *testing.T, c *http.Client, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp, b
}

func TestSpeedtestCommandTokenFile(t *testing.T) {
	cred := "a-credential-of-oak-primary-0001"
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("# edge server\n"+cred+" oak\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := start(t, cmdSpeedtest, "--listen", "127.0.0.1:0", "--token-file", tokens, "--max-duration", "1s", "--log.format", "json")
	c := http.DefaultClient

	if resp, _ := get(t, c, r.url+wire.HealthPath, ""); resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	resp, body := get(t, c, r.url+wire.SpeedtestDownloadPath+"?seconds=0.3", cred)
	if resp.StatusCode != 200 || len(body) == 0 || resp.Header.Get("X-Probity-Speedtest-Seconds") != "0.3" {
		t.Fatalf("download: %d, %d bytes, headers %v", resp.StatusCode, len(body), resp.Header)
	}
	if resp, _ := get(t, c, r.url+wire.SpeedtestDownloadPath+"?seconds=600", cred); resp.Header.Get("X-Probity-Speedtest-Seconds") != "1" {
		t.Errorf("--max-duration 1s: granted %q seconds", resp.Header.Get("X-Probity-Speedtest-Seconds"))
	}
	if resp, _ := get(t, c, r.url+wire.SpeedtestDownloadPath, "not-listed"); resp.StatusCode != 401 {
		t.Errorf("unlisted credential: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", r.url+wire.SpeedtestUploadPath, bytes.NewReader(make([]byte, 123457)))
	req.Header.Set("Authorization", "Bearer "+cred)
	up, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var u wire.SpeedtestUpload
	json.NewDecoder(up.Body).Decode(&u)
	up.Body.Close()
	if up.StatusCode != 200 || u.Bytes != 123457 {
		t.Errorf("upload: %d %+v, want 123457 bytes", up.StatusCode, u)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if log := r.stderr.String(); !strings.Contains(log, `"downloads":2`) || !strings.Contains(log, `"uploads":1`) {
		t.Errorf("final log lacks the counts:\n%s", log)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "speedtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestSpeedtestCommandTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	cred := "a-credential-of-oak-primary-0002"
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("sha256:"+store.HashSecret(cred)+"\n"), 0o600)
	r := start(t, cmdSpeedtest, "--listen", "127.0.0.1:0", "--token-file", tokens, "--tls-cert", certFile, "--tls-key", keyFile, "--log.format", "json")
	if !strings.HasPrefix(r.url, "https://") {
		t.Fatalf("url %s, want https", r.url)
	}
	// The client would take HTTP/2 if offered; the server offers only
	// HTTP/1.1, so parallel streams are separate connections.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, body := get(t, c, r.url+wire.SpeedtestDownloadPath+"?seconds=0.2", cred)
	if resp.StatusCode != 200 || len(body) == 0 || resp.Proto != "HTTP/1.1" {
		t.Errorf("download over TLS: %d, %d bytes, %s; want 200, bytes, HTTP/1.1", resp.StatusCode, len(body), resp.Proto)
	}
}

func TestSpeedtestCommandErrors(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(tokens, []byte("a-credential-of-oak-primary-0003\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "say how to check agents' credentials: --collector URL (ask the collector) or --token-file FILE"},
		{[]string{"--collector", "http://127.0.0.1:8470", "--token-file", tokens}, "give --collector or --token-file, not both"},
		{[]string{"--collector", "127.0.0.1:8470"}, "--collector: collector URL must be http:// or https://"},
		{[]string{"--token-file", filepath.Join(t.TempDir(), "missing")}, "token file:"},
		{[]string{"--token-file", tokens, "--max-duration", "10m"}, "--max-duration: must be between 1s and 5m, not 10m0s"},
		{[]string{"--token-file", tokens, "--max-concurrent", "0"}, "--max-concurrent: must be between 1 and 4096"},
		{[]string{"--token-file", tokens, "--tls-cert", "x.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--token-file", tokens, "--tls-cert", "x.pem", "--tls-key", "y.pem"}, "--tls-cert/--tls-key:"},
		{[]string{"--token-file", tokens, "--listen", "nowhere"}, "--listen: must be host:port"},
		{[]string{"--token-file", tokens, "extra"}, "unexpected arguments"},
		{[]string{"--token-file", tokens, "--log.level", "loud"}, "--log.level: must be debug, info, warn or error"},
	} {
		err := cmdSpeedtest(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("speedtest %v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestServeSpeedtestAndWhoami runs `collector serve` and uses it as an
// agent would: enrol, whoami, a speed test on the collector's own
// listener; the address shows in `agent list` and `site list`.
func TestServeSpeedtestAndWhoami(t *testing.T) {
	c := newCLI(t)
	token := strings.TrimSpace(c.ok(cmdAgentToken, "--site", "oak"))
	r := start(t, cmdServe, "--config", c.cfg, "--listen", "127.0.0.1:0", "--log.level", "info")

	b, _ := json.Marshal(wire.EnrolRequest{Token: token, Hostname: "oak-pi"})
	resp, err := http.Post(r.url+wire.EnrolPath, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var enrolled wire.EnrolResponse
	json.NewDecoder(resp.Body).Decode(&enrolled)
	resp.Body.Close()
	if enrolled.Credential == "" {
		t.Fatalf("enrol: %d %+v", resp.StatusCode, enrolled)
	}

	resp, body := get(t, http.DefaultClient, r.url+wire.WhoamiPath, enrolled.Credential)
	var who wire.Whoami
	json.Unmarshal(body, &who)
	if resp.StatusCode != 200 || who.AgentID != enrolled.AgentID || who.SiteID != "oak" || who.Address != "127.0.0.1" {
		t.Fatalf("whoami: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, http.DefaultClient, r.url+wire.SpeedtestDownloadPath+"?seconds=0.2", enrolled.Credential)
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("download from the collector: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get(t, http.DefaultClient, r.url+wire.SpeedtestDownloadPath, "wrong"); resp.StatusCode != 401 {
		t.Errorf("download with a wrong credential: %d", resp.StatusCode)
	}
	if _, m := get(t, http.DefaultClient, r.url+"/metrics", ""); !strings.Contains(string(m), `probity_speedtest_transfers_total{direction="download"} 1`) {
		t.Errorf("/metrics lacks the speed-test counters")
	}
	if resp, _ := get(t, http.DefaultClient, r.url+wire.HealthPath, ""); resp.StatusCode != 200 {
		t.Errorf("the API behind the speed test: healthz %d", resp.StatusCode)
	}

	if out := c.ok(cmdAgentList); !regexp.MustCompile(enrolled.AgentID + `\s+oak\s+oak-pi\s+.*127\.0\.0\.1 at \d{4}-`).MatchString(out) {
		t.Errorf("agent list:\n%s", out)
	}
	if out := c.ok(cmdSiteList); !regexp.MustCompile(`(?m)^oak\s.*\s1\s+127\.0\.0\.1 at \d{4}-`).MatchString(out) {
		t.Errorf("site list:\n%s", out)
	}
	if err := r.stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestServeSpeedtestDisabled(t *testing.T) {
	c := newCLI(t)
	t.Setenv("PROBITY_SPEEDTEST_ENABLED", "false")
	r := start(t, cmdServe, "--config", c.cfg, "--listen", "127.0.0.1:0", "--log.level", "info")
	if resp, _ := get(t, http.DefaultClient, r.url+wire.SpeedtestDownloadPath, "any"); resp.StatusCode != 404 {
		t.Errorf("speedtest.enabled=false: download answered %d, want 404", resp.StatusCode)
	}
}
