package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/probity-edu/probity/internal/testenv"
)

// TestIntegrationWebUIInBrowser drives the real collector's web UI with
// headless Chromium while a real agent ships to it: a trust admin signs
// in, opens the fleet overview, the school, records an attestation through
// the form, opens the report, the review and downloads the PDF; a
// governor (school viewer) is sent to their school and cannot open
// another. Every page is checked with axe-core (WCAG 2.1 A and AA) at
// desktop and phone widths, screenshots are kept, and the browser must
// report no console error.
func TestIntegrationWebUIInBrowser(t *testing.T) {
	e := setup(t)
	pdftotext := testenv.RequireBinary(t, "pdftotext")
	agent := start(t, "agent", e.agentBin, "run", "--config", e.agentConfig)
	eventually(t, 60*time.Second, "first verdicts from measurements", func() bool {
		return e.verdicts(t)["FM-15"].State == "partly_met"
	})
	agent.stop(t)

	cli := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(e.collectorBin, append(args, e.collectorArgs...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cli("", "trust", "add", "Other Trust")
	cli("", "site", "add", "--trust", "Other Trust", "--name", "Other School", "--urn", "654321", "--phase", "primary", "--id", "other-school")
	const adminPW, govPW = "correct horse battery staple", "governor passphrase 2026"
	cli(adminPW+"\n", "user", "add", "--name", "it.lead", "--role", "trust_admin", "--trust", "E2E Trust", "--password-stdin")
	cli(govPW+"\n", "user", "add", "--name", "governor", "--role", "school_viewer", "--site", "e2e-academy", "--password-stdin")

	b := testenv.NewBrowser(t)
	// do runs steps with a deadline: a selector that never matches must
	// fail the test with the page as it was, not hang it.
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			hctx, hcancel := context.WithTimeout(b.Ctx, 5*time.Second)
			html, _ := chromedp.Run(hctx, chromedp.OuterHTML(chromedp.CSS("body")))
			hcancel()
			b.Screenshot(t, "failed-"+strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("%s: %v\npage:\n%s", what, err, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(b.Ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// check runs axe-core and saves a screenshot, at desktop width and on
	// a phone.
	check := func(name string) {
		t.Helper()
		for _, size := range []struct {
			suffix string
			w, h   int64
		}{{"", 1280, 900}, {"-phone", 375, 812}} {
			do("viewport", chromedp.EmulateViewport(size.w, size.h))
			for _, v := range b.Axe(t) {
				if v.Impact == "serious" || v.Impact == "critical" {
					t.Errorf("%s%s: accessibility: %s", name, size.suffix, v)
				}
			}
			b.Screenshot(t, name+size.suffix)
		}
		do("viewport", chromedp.EmulateViewport(1280, 900))
	}
	signIn := func(name, password string) {
		t.Helper()
		do("sign in",
			chromedp.Navigate(e.base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SendKeys(chromedp.CSS("#name"), name),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			chromedp.WaitNotPresent(chromedp.CSS("#password")), // the login page has gone
			chromedp.WaitVisible(chromedp.CSS("main h1")),
		)
	}

	// Unauthenticated: the login page.
	do("open", chromedp.Navigate(e.base+"/schools/e2e-academy"), chromedp.WaitVisible(chromedp.CSS("#name")))
	if !strings.Contains(location(), "/login?next=") {
		t.Errorf("not sent to sign in: %s", location())
	}
	check("login")

	signIn("it.lead", adminPW)
	if h := text("main h1"); h != "Your schools" {
		t.Errorf("after sign-in: h1 %q at %s", h, location())
	}
	if fleet := text("table.fleet"); !strings.Contains(fleet, "E2E Academy") || strings.Contains(fleet, "Other School") {
		t.Errorf("fleet overview: %s", fleet)
	}
	check("fleet")
	do("trust report", chromedp.Click(chromedp.CSS(`a[href="/trust/report"]`)), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if h := text("main h1"); !strings.Contains(h, "E2E Trust") {
		t.Errorf("trust report h1 %q", h)
	}
	check("trust")
	do("back", chromedp.Navigate(e.base+"/"), chromedp.WaitVisible(chromedp.CSS("table.fleet")))

	do("school", chromedp.Click(chromedp.CSS(`a[href="/schools/e2e-academy"]`)), chromedp.WaitVisible(chromedp.CSS("#f-requirement")))
	check("school")
	do("attest",
		chromedp.SetValue(chromedp.CSS("#f-requirement"), "DL-1"),
		chromedp.SendKeys(chromedp.CSS("#f-by"), "A. Head"),
		chromedp.SendKeys(chromedp.CSS("#f-role"), "headteacher"),
		chromedp.SendKeys(chromedp.CSS("#f-note"), "SLT digital lead appointed at the July governors' meeting"),
		chromedp.Click(chromedp.CSS(`#attest ~ form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.ok")),
	)
	if ok := text("p.ok"); !strings.Contains(ok, "DL-1") {
		t.Errorf("attestation confirmation: %q", ok)
	}
	if att := text("table:has(th:first-child) tbody"); att == "" {
		t.Error("no attestation table")
	}
	eventually(t, 20*time.Second, "DL-1 attested", func() bool { return e.verdicts(t)["DL-1"].State == "attested" })

	began := time.Now()
	do("report", chromedp.Navigate(e.base+"/schools/e2e-academy/report"))
	t.Logf("report navigated in %s", time.Since(began).Round(time.Millisecond))
	do("report h1", chromedp.WaitVisible(chromedp.CSS("h1")))
	t.Logf("report page loaded in %s", time.Since(began).Round(time.Millisecond))
	if h := text("h1"); !strings.Contains(h, "E2E Academy") {
		t.Errorf("report h1 %q", h)
	}
	check("report")
	do("review", chromedp.Navigate(e.base+"/schools/e2e-academy/review"), chromedp.WaitVisible(chromedp.CSS("h1")))
	check("review")

	// The PDF download, with the browser's session cookie.
	sess := sessionCookie(t, b)
	req, _ := http.NewRequest(http.MethodGet, e.base+"/schools/e2e-academy/report.pdf", nil)
	req.Header.Set("Cookie", sess)
	resp, err := (&http.Client{}).Do(req) // not http.DefaultClient: the harness gives that an admin token
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF download: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, want := range []string{"E2E Academy", "Summary for governors", "DL-1", "A. Head"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("browser console errors: %q", errs)
	}

	// Sign out; the governor sees their school only.
	do("sign out", chromedp.Navigate(e.base+"/"), chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#name")))
	signIn("governor", govPW)
	if !strings.HasSuffix(location(), "/schools/e2e-academy") {
		t.Errorf("governor landed on %s", location())
	}
	if n, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("#f-requirement").length`)); err != nil || n != 0 {
		t.Errorf("a school viewer sees the attestation form (%d, %v)", n, err)
	}
	do("other school", chromedp.Navigate(e.base+"/schools/other-school"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if h := text("main h1"); strings.Contains(h, "Other School") {
		t.Errorf("a governor of E2E Academy opened Other School: %q", h)
	}
	b.Errors() // the 404 above is logged by the browser as a failed load: expected
}

// sessionCookie reads the session cookie from the browser (it is HttpOnly,
// so only the DevTools protocol sees it) as a Cookie header value.
func sessionCookie(t *testing.T, b *testenv.Browser) string {
	t.Helper()
	cs, err := b.Cookies()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == "probity_session" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no session cookie among %d", len(cs))
	return ""
}
