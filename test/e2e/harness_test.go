package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds both commands once per test run.
func binaries(t *testing.T) (agent, collector string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "probity-e2e-bin-")
		if buildErr != nil {
			return
		}
		for _, b := range []string{"agent", "collector"} {
			if buildErr = goBuild(filepath.Join(binDir, "probity-"+b), "./"+b, nil); buildErr != nil {
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "probity-agent"), filepath.Join(binDir, "probity-collector")
}

// repoRoot is the module's root directory, from this file's place in it.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// benchmarksDoc is docs/benchmarks.md, where benchmarks record their figures.
func benchmarksDoc() string { return filepath.Join(repoRoot(), "docs", "benchmarks.md") }

// goBuild builds the module's package pkg (a path from the module root,
// such as "./agent") into dst with cgo off, with env added to the
// environment and flags before the package.
func goBuild(dst, pkg string, env []string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", dst, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot()
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", pkg, err, out)
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a running binary with its output captured.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("---- %s output ----\n%s", name, p.output())
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		// A Go process answers SIGQUIT with every goroutine's stack, which
		// the output then shows: where the stop was held up.
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		t.Errorf("%s did not stop within 20s of SIGTERM; sent SIGQUIT (a Go program prints its goroutines at the end of its output)", p.name)
	}
}

// run runs a binary to completion and returns stdout; stderr goes to the log on failure.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

// readers holds an admin token per collector address: reads of the API
// and the report pages need a principal, and the tests read as the
// operator.
var readers = struct {
	sync.Mutex
	tokens map[string]string // host:port → admin token
}{tokens: map[string]string{}}

// authorize creates an admin token on e's collector, once per address,
// for every request the test itself makes to it (http.Get and getJSON go
// through http.DefaultClient, whose transport adds it).
func (e *env) authorize(t *testing.T) {
	t.Helper()
	host := strings.TrimPrefix(e.base, "http://")
	readers.Lock()
	_, done := readers.tokens[host]
	readers.Unlock()
	if done {
		return // a restarted collector keeps its store and its tokens
	}
	// Named by address: collectors sharing one store share its tokens.
	tok := strings.TrimSpace(run(t, e.collectorBin, append([]string{"admin", "token", "--name", "e2e reader " + host}, e.collectorArgs...)...))
	readers.Lock()
	readers.tokens[host] = tok
	readers.Unlock()
	t.Cleanup(func() {
		readers.Lock()
		delete(readers.tokens, host)
		readers.Unlock()
	})
}

// readerTransport adds the collector's admin token to the test's own
// requests that carry no Authorization of their own.
type readerTransport struct{ base http.RoundTripper }

func (rt readerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	readers.Lock()
	tok := readers.tokens[r.URL.Host]
	readers.Unlock()
	if tok != "" && r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return rt.base.RoundTrip(r)
}

func init() { http.DefaultClient.Transport = readerTransport{base: http.DefaultTransport} }

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// logLine finds the last JSON log line with msg and returns its fields.
func logLine(out, msg string) map[string]any {
	var found map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			found = m
		}
	}
	return found
}

// schoolResolver is a real DNS server on loopback answering like a school
// resolver with SafeSearch enforced and the DoH canary blocked.
func schoolResolver(t *testing.T) string {
	t.Helper()
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	zone := map[string][]dns.RR{
		"www.google.com.":  {rr("www.google.com. 300 IN CNAME forcesafesearch.google.com."), rr("forcesafesearch.google.com. 300 IN A 216.239.38.120")},
		"www.youtube.com.": {rr("www.youtube.com. 300 IN CNAME restrict.youtube.com."), rr("restrict.youtube.com. 300 IN A 216.239.38.120")},
		"www.bing.com.":    {rr("www.bing.com. 300 IN CNAME strict.bing.com."), rr("strict.bing.com. 300 IN A 204.79.197.220")},
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		if ans, ok := zone[strings.ToLower(q.Name)]; ok && q.Qtype == dns.TypeA {
			m.Answer = ans
		} else {
			m.Rcode = dns.RcodeNameError // use-application-dns.net and everything else
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: handler}
	ready := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(ready) }
	go func() { _ = srv.ActivateAndServe() }()
	<-ready
	t.Cleanup(func() { _ = srv.ShutdownContext(context.Background()) })
	return pc.LocalAddr().String()
}

func execCommand(bin string, args ...string) *exec.Cmd { return exec.Command(bin, args...) }

// writeBenchBlock replaces the text from start to end (both marks kept in
// block, which must begin with start and end with end and a newline) in
// docs/benchmarks.md: how each benchmark records its latest figures.
func writeBenchBlock(t *testing.T, start, end, block string) {
	t.Helper()
	path := benchmarksDoc()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s ... %s section", path, start, end)
	}
	s = s[:i] + block + s[j+len(end)+1:]
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote the table to %s:\n%s", path, block)
}
