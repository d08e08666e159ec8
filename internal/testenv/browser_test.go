package testenv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestIntegrationBrowser: Chromium loads a loopback page, its console
// error is collected, axe-core finds the unlabelled input, and a page
// that asks for a name outside loopback cannot resolve it.
func TestIntegrationBrowser(t *testing.T) {
	RequireIntegration(t, "runs headless Chromium")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Hello</h1>
<input type="text"><script>console.error("boom")</script><img src="http://example.com/x.png" alt="x"></main></body></html>`)
	}))
	defer srv.Close()
	b := NewBrowser(t)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(b.Ctx, chromedp.Text("h1"))
	if err != nil {
		t.Fatal(err)
	}
	if h1 != "Hello" {
		t.Errorf("h1 %q", h1)
	}
	time.Sleep(500 * time.Millisecond) // the console messages arrive asynchronously
	errs := strings.Join(b.Errors(), "\n")
	if !strings.Contains(errs, "error: boom") {
		t.Errorf("console error not collected: %q", errs)
	}
	if !strings.Contains(errs, "ERR_NAME_NOT_RESOLVED") && !strings.Contains(errs, "example.com") {
		t.Errorf("the outside name was not refused: %q", errs)
	}
	vs := b.Axe(t)
	found := false
	for _, v := range vs {
		if v.ID == "label" {
			found = true
		}
	}
	if !found {
		t.Errorf("axe did not report the unlabelled input: %v", vs)
	}
	b.Screenshot(t, "browser-smoke")
}
