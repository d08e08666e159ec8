package testenv

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
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A school network for testing web-filtering checks: a School namespace,
// where the checker runs, that reaches an Internet namespace only through
// the school's DNS (dnsmasq), firewall (nft) and, when the client asks for
// them, filtering proxies (e2guardian). The "internet" is a web server of
// the test process answering on one 198.18.0.0/24 address per site, with
// certificates from a CA of the rig's own. Nothing leaves the two
// namespaces: the Internet namespace has no route anywhere else, and
// dnsmasq has no upstream server.

// Addresses of the School<->Internet link, which exists only inside the
// two namespaces.
var (
	schoolLinkAddr   = netip.MustParsePrefix("192.0.2.1/30")
	internetLinkAddr = netip.MustParsePrefix("192.0.2.2/30")
)

// Interface names of that link; each lives in its own namespace, so they
// never clash with the host's or another rig's.
const (
	schoolLinkIf   = "school0"
	internetLinkIf = "inet0"
)

// Ports of the two e2guardian instances inside School (a fresh namespace,
// so fixed ports are free). The transparent HTTPS ports are unused but
// must not clash.
const (
	proxyPort, proxyTransparentPort = 8080, 8443
	mitmPort, mitmTransparentPort   = 8081, 8444
)

// SchoolNetOptions describes the school's filtering. Every name is a host
// name without a trailing dot; names are matched case-insensitively by
// dnsmasq and e2guardian.
type SchoolNetOptions struct {
	// Sites are the host names the "internet" web server serves, each on
	// its own address in 198.18.0.0/24 (benchmarking space: not private
	// per netip.Addr.IsPrivate), in order from 198.18.0.1.
	Sites []string
	// NXDomain are names the school DNS answers NXDOMAIN (with all their
	// subdomains).
	NXDomain []string
	// Sinkhole maps a name to the address the school DNS answers for it
	// instead of the real one, e.g. "0.0.0.0" or a block-page address.
	Sinkhole map[string]string
	// CNAME maps a name to the target the school DNS answers with a CNAME
	// for it, as SafeSearch rewrites do (www.google.com ->
	// forcesafesearch.google.com). The target must be one of Sites; its
	// certificate then also names the alias, as Google's does.
	CNAME map[string]string
	// Reset are sites whose TCP ports 80 and 443 School's firewall
	// answers with a TCP reset.
	Reset []string
	// Drop are sites all of whose packets School's firewall silently
	// drops (the timeout case).
	Drop []string
	// ProxyBanned are sites both e2guardian filter groups ban.
	ProxyBanned []string
	// ProxyBannedStudent are sites only the "student" group bans; it is
	// filter1, which proxy users named "student" and unauthenticated
	// users get. Users named "staff" get filter2.
	ProxyBannedStudent []string
	// ProxyAddHeader maps a URL regular expression to a header
	// ("Name: value") both filter groups add to the requests they pass
	// on (e2guardian's addheaderregexplist; the rig makes the expression
	// cover the whole URL). e2guardian matches http://host/path even for
	// https requests it intercepts, as its packaged YouTube examples
	// assume: an expression starting ^https:// never matches, so write
	// `^http://www\.youtube\.com` for https://www.youtube.com too. Only
	// MITMProxy can add headers to https requests.
	ProxyAddHeader map[string]string
	// Handler serves every site over HTTP and HTTPS; it sees the client's
	// Host header. nil: a small page whose <title> is the host name.
	Handler http.Handler
}

// SchoolNet is a running school network. School and Internet are deleted,
// and every server stopped, by t.Cleanup.
type SchoolNet struct {
	// School is where the checker runs (with RunHelper): its
	// /etc/resolv.conf names DNS and its default route leads to
	// Internet.
	School *Netns
	// Internet holds the sites' addresses; the web server listens there.
	Internet *Netns
	// DNS is "ip:53" of the school's dnsmasq inside School.
	DNS string
	// SchoolAddr and HostAddr are the two ends of a veth between School
	// and the host: a collector on the host listening on HostAddr is
	// reachable from School, and School's SchoolAddr from the host.
	SchoolAddr, HostAddr netip.Addr
	// Addr maps each site to its address.
	Addr map[string]netip.Addr
	// PublicCAFile is the PEM of the CA that signed every site's
	// certificate, the rig's stand-in for the public web PKI: clients
	// trust it as their roots.
	PublicCAFile string
	// InterceptCAFile is the PEM of the "school CA" that MITMProxy's TLS
	// interception signs with (not PublicCA).
	InterceptCAFile string
	// Proxy is an e2guardian inside School without TLS interception; it
	// answers CONNECT to a banned site with a 302 to its block page on
	// internal.test.e2guardian.org.
	Proxy *url.URL
	// MITMProxy is a second e2guardian inside School that intercepts TLS
	// with InterceptCA (sslmitm on) and serves block pages inside the
	// intercepted connection. It checks the sites' certificates against
	// PublicCA (mitmcheckcert on, sslcertificatepath holding PublicCA),
	// and answers one it cannot verify, or that does not name the site,
	// with its block page ("Certificate supplied by server was not
	// valid").
	MITMProxy *url.URL
}

// NewSchoolNet builds the school network described by o and returns once
// every server answers. It needs root, ip, dnsmasq, e2guardian (with its
// packaged configuration in /etc/e2guardian), nft and openssl, and skips
// (fails when required) without them. It takes about a second.
func NewSchoolNet(t testing.TB, o SchoolNetOptions) *SchoolNet {
	t.Helper()
	RequireIntegration(t, "builds a school network with dnsmasq, nft and e2guardian")
	RequireRoot(t)
	for _, b := range []string{"ip", "dnsmasq", "e2guardian", "nft", "openssl"} {
		RequireBinary(t, b)
	}
	if _, err := os.Stat("/etc/e2guardian/e2guardian.conf"); err != nil {
		Unavailable(t, "e2guardian configuration missing: %v", err)
	}
	s := &SchoolNet{Addr: map[string]netip.Addr{}}
	if err := s.assignAddrs(o); err != nil {
		t.Fatalf("NewSchoolNet: %v", err)
	}

	s.School, s.Internet = NewNetns(t), NewNetns(t)
	s.link(t)
	v := s.School.AddVeth(t)
	s.SchoolAddr, s.HostAddr = v.NSAddr.Addr(), v.HostAddr.Addr()

	dir := t.TempDir()
	ca, err := newCA("Probity rig public CA")
	if err != nil {
		t.Fatalf("NewSchoolNet: public CA: %v", err)
	}
	s.PublicCAFile = filepath.Join(dir, "public-ca.pem")
	if err := os.WriteFile(s.PublicCAFile, ca.certPEM(), 0o644); err != nil {
		t.Fatalf("NewSchoolNet: %v", err)
	}
	s.serveSites(t, o, ca)
	s.startDNS(t, o, dir)
	s.firewall(t, o)
	s.startProxies(t, o)
	return s
}

// assignAddrs numbers the sites and checks that every name o refers to
// as a site is one.
func (s *SchoolNet) assignAddrs(o SchoolNetOptions) error {
	if len(o.Sites) > 254 {
		return fmt.Errorf("%d sites; at most 254 fit in 198.18.0.0/24", len(o.Sites))
	}
	for i, name := range o.Sites {
		name = strings.ToLower(name)
		if _, dup := s.Addr[name]; dup {
			return fmt.Errorf("site %s listed twice", name)
		}
		s.Addr[name] = netip.AddrFrom4([4]byte{198, 18, 0, byte(i + 1)})
	}
	for _, l := range []struct {
		what  string
		names []string
	}{
		{"reset site", o.Reset},
		{"drop site", o.Drop},
		{"CNAME target", slices.Collect(maps.Values(o.CNAME))},
	} {
		for _, n := range l.names {
			if _, ok := s.Addr[strings.ToLower(n)]; !ok {
				return fmt.Errorf("%s %s is not one of the sites", l.what, n)
			}
		}
	}
	for name, a := range o.Sinkhole {
		if _, err := netip.ParseAddr(a); err != nil {
			return fmt.Errorf("sinkhole address for %s: %w", name, err)
		}
	}
	return nil
}

// link joins School and Internet with a veth and puts the sites'
// addresses on Internet's loopback. Internet gets no default route, so
// whatever School sends elsewhere dies there.
func (s *SchoolNet) link(t testing.TB) {
	t.Helper()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	sn, in := s.School.Name, s.Internet.Name
	run("-n", sn, "link", "add", schoolLinkIf, "type", "veth", "peer", "name", internetLinkIf, "netns", in)
	run("-n", sn, "addr", "add", schoolLinkAddr.String(), "dev", schoolLinkIf)
	run("-n", in, "addr", "add", internetLinkAddr.String(), "dev", internetLinkIf)
	run("-n", sn, "link", "set", schoolLinkIf, "up")
	run("-n", in, "link", "set", internetLinkIf, "up")
	run("-n", sn, "route", "add", "default", "via", internetLinkAddr.Addr().String())
	for _, a := range s.Addr {
		run("-n", in, "addr", "add", netip.PrefixFrom(a, 32).String(), "dev", "lo")
	}
}

// serveSites runs the sites' web server in this process on Internet's
// ports 80 and 443.
func (s *SchoolNet) serveSites(t testing.TB, o SchoolNetOptions, ca *certAuthority) {
	t.Helper()
	h := o.Handler
	if h == nil {
		h = http.HandlerFunc(sitePage)
	}
	// A site's certificate names the site and every CNAME alias of it;
	// which certificate a connection gets depends on the address it
	// reached, not on its SNI, as with real servers.
	names := map[netip.Addr][]string{}
	for site, a := range s.Addr {
		names[a] = append(names[a], site)
	}
	for alias, target := range o.CNAME {
		a := s.Addr[strings.ToLower(target)]
		names[a] = append(names[a], strings.ToLower(alias))
	}
	certs := map[netip.Addr]*tls.Certificate{}
	for a, n := range names {
		c, err := ca.issue(n)
		if err != nil {
			t.Fatalf("NewSchoolNet: certificate for %v: %v", n, err)
		}
		certs[a] = c
	}
	getCert := func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		ap, err := netip.ParseAddrPort(hello.Conn.LocalAddr().String())
		if err != nil {
			return nil, err
		}
		if c := certs[ap.Addr().Unmap()]; c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("no site at %s", ap.Addr())
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Resets and interrupted handshakes are part of the tests.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	plain, err := s.Internet.Listen("tcp4", "0.0.0.0:80")
	if err != nil {
		t.Fatalf("NewSchoolNet: web server: %v", err)
	}
	tl, err := s.Internet.Listen("tcp4", "0.0.0.0:443")
	if err != nil {
		plain.Close()
		t.Fatalf("NewSchoolNet: web server: %v", err)
	}
	secure := tls.NewListener(tl, &tls.Config{GetCertificate: getCert, NextProtos: []string{"h2", "http/1.1"}})
	var wg sync.WaitGroup
	for _, l := range []net.Listener{plain, secure} {
		wg.Go(func() { _ = srv.Serve(l) })
	}
	t.Cleanup(func() {
		_ = srv.Close()
		wg.Wait()
	})
}

// sitePage is the default site handler: a page titled with the host name.
func sitePage(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = html.EscapeString(host)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html>\n<html><head><title>%s</title></head><body><h1>%s</h1></body></html>\n", host, host)
}

// startDNS runs dnsmasq on School's end of the link, answering only from
// its configuration, and makes it School's resolver.
func (s *SchoolNet) startDNS(t testing.TB, o SchoolNetOptions, dir string) {
	t.Helper()
	var conf strings.Builder
	conf.WriteString("# written by testenv.NewSchoolNet\n")
	for _, site := range o.Sites {
		site = strings.ToLower(site)
		fmt.Fprintf(&conf, "host-record=%s,%s\n", site, s.Addr[site])
	}
	// cname= only answers for targets dnsmasq knows itself, which the
	// host-records above make every site.
	for _, alias := range slices.Sorted(maps.Keys(o.CNAME)) {
		fmt.Fprintf(&conf, "cname=%s,%s\n", strings.ToLower(alias), strings.ToLower(o.CNAME[alias]))
	}
	// An address= without an address answers NXDOMAIN for the name and
	// its subdomains.
	for _, n := range o.NXDomain {
		fmt.Fprintf(&conf, "address=/%s/\n", strings.ToLower(n))
	}
	for _, n := range slices.Sorted(maps.Keys(o.Sinkhole)) {
		fmt.Fprintf(&conf, "address=/%s/%s\n", strings.ToLower(n), o.Sinkhole[n])
	}
	// Every other name: NXDOMAIN, never forwarded (there is no upstream
	// either: --no-resolv and no server=).
	conf.WriteString("address=/#/\n")
	confFile := filepath.Join(dir, "dnsmasq.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o644); err != nil {
		t.Fatalf("NewSchoolNet: %v", err)
	}

	// `ip netns exec` bind-mounts /etc/netns/<name>/resolv.conf over
	// /etc/resolv.conf, so every program run in School, helpers
	// included, asks dnsmasq.
	etc := filepath.Join("/etc/netns", s.School.Name)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatalf("NewSchoolNet: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	resolv := fmt.Sprintf("# written by testenv.NewSchoolNet\nnameserver %s\n", schoolLinkAddr.Addr())
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte(resolv), 0o644); err != nil {
		t.Fatalf("NewSchoolNet: %v", err)
	}

	s.DNS = net.JoinHostPort(schoolLinkAddr.Addr().String(), "53")
	d := startDaemon(t, s.School, "dnsmasq",
		"--no-resolv", "--no-hosts", "--keep-in-foreground", "--bind-interfaces",
		"--listen-address="+schoolLinkAddr.Addr().String(), "--port=53",
		"--conf-file="+confFile, "--pid-file="+filepath.Join(dir, "dnsmasq.pid"),
		"--user=root", "--log-queries", "--log-facility=-")
	d.waitReady(t, func() error {
		c, err := s.School.Dial("udp", s.DNS, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		m := new(dns.Msg).SetQuestion("probity-rig-ready.", dns.TypeA)
		dc := &dns.Conn{Conn: c}
		_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
		if err := dc.WriteMsg(m); err != nil {
			return err
		}
		_, err = dc.ReadMsg()
		return err
	})
}

// firewall adds School's reset and drop rules, which apply to everything
// in School, e2guardian included.
func (s *SchoolNet) firewall(t testing.TB, o SchoolNetOptions) {
	t.Helper()
	var rules strings.Builder
	rules.WriteString("table inet probity_rig {\n\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n")
	for _, n := range o.Reset {
		fmt.Fprintf(&rules, "\t\tip daddr %s tcp dport { 80, 443 } reject with tcp reset\n", s.Addr[strings.ToLower(n)])
	}
	for _, n := range o.Drop {
		fmt.Fprintf(&rules, "\t\tip daddr %s drop\n", s.Addr[strings.ToLower(n)])
	}
	rules.WriteString("\t}\n}\n")
	cmd := s.School.Command(context.Background(), "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("NewSchoolNet: nft in %s: %v: %s\nrules:\n%s", s.School.Name, err, strings.TrimSpace(string(out)), rules.String())
	}
}

// daemon is a server process run inside a namespace until the test ends.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  SyncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// startDaemon starts name inside ns; t.Cleanup kills it.
func startDaemon(t testing.TB, ns *Netns, name string, args ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, done: make(chan struct{})}
	// `ip netns exec` execs the program, so the process is the daemon
	// itself and Kill reaches it.
	d.cmd = ns.Command(context.Background(), name, args...)
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("NewSchoolNet: starting %s: %v", name, err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	return d
}

// waitReady polls ready until it succeeds; the daemon exiting or 15s
// passing fails the test with the daemon's output.
func (d *daemon) waitReady(t testing.TB, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := ready()
		if err == nil {
			return
		}
		select {
		case <-d.done:
			t.Fatalf("NewSchoolNet: %s exited (%v) before it was ready; its output:\n%s", d.name, d.err, d.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("NewSchoolNet: %s not ready after 15s: %v; its output:\n%s", d.name, err, d.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SyncBuffer is a bytes.Buffer safe to write from one goroutine (a
// process's output, a logger) while a test reads it from another.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// certAuthority issues the rig's certificates.
type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// newCA makes a self-signed ECDSA P-256 CA valid from an hour ago for a
// week.
func newCA(name string) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Probity test rig"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &certAuthority{cert: cert, key: key}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

func (ca *certAuthority) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

func (ca *certAuthority) keyPEM() ([]byte, error) {
	return keyPEM(ca.key)
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// issue makes a server certificate for names (the first is the subject).
func (ca *certAuthority) issue(names []string) (*tls.Certificate, error) {
	if len(names) == 0 {
		return nil, errors.New("no names")
	}
	slices.Sort(names[1:])
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// envSchoolNet carries a SchoolNet to helper processes.
const envSchoolNet = "PROBITY_TESTENV_SCHOOLNET"

// schoolNetWire is SchoolNet as JSON.
type schoolNetWire struct {
	School, Internet     string
	DNS                  string
	SchoolAddr, HostAddr netip.Addr
	Addr                 map[string]netip.Addr
	PublicCAFile         string
	InterceptCAFile      string
	Proxy, MITMProxy     string
}

// HelperEnv returns the environment that hands s to a helper process:
// pass it to s.School.RunHelper and call HelperSchoolNet in the helper.
func (s *SchoolNet) HelperEnv() []string {
	b, err := json.Marshal(schoolNetWire{
		School: s.School.Name, Internet: s.Internet.Name, DNS: s.DNS,
		SchoolAddr: s.SchoolAddr, HostAddr: s.HostAddr, Addr: s.Addr,
		PublicCAFile: s.PublicCAFile, InterceptCAFile: s.InterceptCAFile,
		Proxy: s.Proxy.String(), MITMProxy: s.MITMProxy.String(),
	})
	if err != nil {
		panic(err) // plain strings and addresses always encode
	}
	return []string{envSchoolNet + "=" + string(b)}
}

// HelperSchoolNet returns the SchoolNet that the helper's RunHelper passed
// with HelperEnv. Its namespaces are names only: the helper does not own
// them.
func HelperSchoolNet(t testing.TB) *SchoolNet {
	t.Helper()
	v := os.Getenv(envSchoolNet)
	if v == "" {
		t.Fatal("HelperSchoolNet: no school network passed (RunHelper without SchoolNet.HelperEnv?)")
	}
	var w schoolNetWire
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		t.Fatalf("HelperSchoolNet: %v", err)
	}
	s := &SchoolNet{
		School: &Netns{Name: w.School}, Internet: &Netns{Name: w.Internet}, DNS: w.DNS,
		SchoolAddr: w.SchoolAddr, HostAddr: w.HostAddr, Addr: w.Addr,
		PublicCAFile: w.PublicCAFile, InterceptCAFile: w.InterceptCAFile,
	}
	var err error
	if s.Proxy, err = url.Parse(w.Proxy); err != nil {
		t.Fatalf("HelperSchoolNet: %v", err)
	}
	if s.MITMProxy, err = url.Parse(w.MITMProxy); err != nil {
		t.Fatalf("HelperSchoolNet: %v", err)
	}
	return s
}
