package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// AxeVersion is the axe-core release scripts/setup-test.sh fetches.
const AxeVersion = "4.14.1"

// Browser is a headless Chromium (Debian's chromium package) driven over
// the DevTools protocol by chromedp, for one test. Its console errors,
// uncaught exceptions and failed loads are collected in Errors.
type Browser struct {
	Ctx context.Context // a chromedp context: pass it to chromedp.Run

	mu     sync.Mutex
	errors []string
}

// NewBrowser starts Chromium with a fresh profile. It resolves no name but
// localhost and loopback addresses, and its background services are off,
// so it reaches nothing but the pages the test opens. It needs the
// chromium binary (skips, or fails when required, without it).
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	bin := RequireBinary(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{Ctx: ctx}
	// Console subscribes now (starting the browser); a goroutine keeps the
	// error-level messages until the test ends.
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.add(m.String())
			}
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		<-done
		Unavailable(t, "starting chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-done
	})
	return b
}

func (b *Browser) add(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, s)
}

// Errors returns the console errors, exceptions and failed loads so far,
// and forgets them.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errors
	b.errors = nil
	return out
}

// Screenshot saves a PNG of what the window shows of the current page (a
// long report is taller than a screenshot can be) as name.png in the
// artefacts folder (PROBITY_ARTIFACTS, else a folder in the test's temp
// directory) and returns its path.
func (b *Browser) Screenshot(t testing.TB, name string) string {
	t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("PROBITY_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// AxeViolation is one accessibility rule the page breaks.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

func (v AxeViolation) String() string {
	var targets []string
	for _, n := range v.Nodes {
		targets = append(targets, strings.Join(n.Target, " "))
	}
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(targets, "; "))
}

// Axe runs axe-core (WCAG 2.1 A and AA rules) on the current page and
// returns its violations. The script is the one scripts/setup-test.sh
// fetched; without it the test skips (fails when required).
func (b *Browser) Axe(t testing.TB) []AxeViolation {
	t.Helper()
	script, err := os.ReadFile(AxeScript(t))
	if err != nil {
		Unavailable(t, "axe-core: %v (run scripts/setup-test.sh)", err)
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](string(script))); err != nil {
		t.Fatalf("loading axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](
		`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	return out
}

// AxeScript is the path of axe.min.js as scripts/setup-test.sh stores it.
func AxeScript(t testing.TB) string {
	return filepath.Join(CacheDir(), "axe-core-"+AxeVersion, "axe.min.js")
}

// Cookies returns the cookies of the current page, HttpOnly ones included
// (only the DevTools protocol sees those).
func (b *Browser) Cookies() ([]*network.Cookie, error) {
	r, err := chromedp.Call(b.Ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		return nil, err
	}
	return r.Cookies, nil
}
