package classify

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// e2guardianPages recognises e2guardian's default block page (served with
// HTTP 200 to plain requests) and its redirect to it (a 302 to
// internal.test.e2guardian.org answering CONNECT).
type e2guardianPages struct{}

func (e2guardianPages) Match(_ int, _ http.Header, body []byte, redirectHost string) (string, bool) {
	if bytes.Contains(body, []byte("E2Guardian - Access Denied")) || strings.HasSuffix(redirectHost, ".e2guardian.org") {
		return "e2guardian", true
	}
	return "", false
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startE2guardian runs e2guardian in the foreground on 127.0.0.1 with a copy
// of the packaged configuration in which bannedsite is banned, and returns
// its proxy URL.
func startE2guardian(t *testing.T, bannedsite string) *url.URL {
	bin := testenv.RequireBinary(t, "e2guardian")
	if _, err := os.Stat("/etc/e2guardian/e2guardian.conf"); err != nil {
		testenv.Unavailable(t, "e2guardian configuration missing: %v", err)
	}
	// e2guardian lower-cases some paths it reads, so the directory must be
	// lower case, unlike t.TempDir's.
	parent, err := os.MkdirTemp("", "probity-e2g")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	dir := filepath.Join(parent, "e2g")
	if out, err := exec.Command("cp", "-r", "/etc/e2guardian", dir).CombinedOutput(); err != nil {
		t.Fatalf("copying /etc/e2guardian: %v: %s", err, out)
	}
	port, tport := freePort(t), freePort(t)
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), "/etc/e2guardian", dir)
		if filepath.Base(p) == "e2guardian.conf" {
			for re, v := range map[string]string{
				`(?m)^filterip =.*$`:             "filterip = 127.0.0.1",
				`(?m)^filterports =.*$`:          "filterports = " + strconv.Itoa(port),
				`(?m)^transparenthttpsport =.*$`: "transparenthttpsport = " + strconv.Itoa(tport),
				`(?m)^nodaemon =.*$`:             "nodaemon = on",
				`(?m)^httpworkers =.*$`:          "httpworkers = 20",
			} {
				s = regexp.MustCompile(re).ReplaceAllString(s, v)
			}
			// Its own pid file: the default one in /var/run would make a
			// second copy refuse to start ("I seem to be running already").
			s += "\npidfilename = '" + filepath.Join(dir, "e2guardian.pid") + "'\n"
		}
		if filepath.Base(p) == "bannedsitelist" {
			s += "\n" + bannedsite + "\n"
		}
		return os.WriteFile(p, []byte(s), 0o644)
	})
	if err != nil {
		t.Fatalf("writing e2guardian configuration: %v", err)
	}
	// -N keeps it in the foreground (nodaemon alone does not), so Kill
	// ends it.
	cmd := exec.Command(bin, "-N", "-c", filepath.Join(dir, "e2guardian.conf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting e2guardian: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2guardian not listening on %s: %v; output:\n%s", addr, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &url.URL{Scheme: "http", Host: addr}
}

func TestIntegrationE2guardian(t *testing.T) {
	testenv.RequireIntegration(t, "runs e2guardian")
	// The banned name is blocked before e2guardian resolves it, so no
	// lookup leaves the machine; the allowed page is on loopback.
	proxy := startE2guardian(t, "badsite.test")
	page := httptest.NewServer(handler())
	t.Cleanup(page.Close)

	o := Options{Proxy: proxy, BlockPages: e2guardianPages{}, Timeout: 10 * time.Second}
	for _, c := range []struct {
		target    string
		outcome   Outcome
		mechanism Mechanism
	}{
		{page.URL + "/", Allowed, ""},
		{"http://badsite.test/", Blocked, HTTPBlockPage},
		{"https://badsite.test/", Blocked, HTTPBlockPage},
	} {
		r := Check(context.Background(), c.target, o)
		t.Logf("%s: %+v", c.target, r)
		if r.Outcome != c.outcome || r.Mechanism != c.mechanism {
			t.Errorf("Check(%s) through e2guardian = %s/%s detail %q error %q, want %s/%s",
				c.target, r.Outcome, r.Mechanism, r.Detail, r.Error, c.outcome, c.mechanism)
		}
	}
}
