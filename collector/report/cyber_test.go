package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// TestCyberFindings: the report lists the latest finding of each check and
// target, worst first, with what to do; a finding since fixed, a clean
// result and one older than the window are not listed; a check that could
// not tell is listed apart and never counted as clean.
func TestCyberFindings(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	ctx := context.Background()
	if err := st.CreateEnrolToken(ctx, "oak", "h", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	agent, err := st.ConsumeEnrolToken(ctx, "h", store.Agent{Hostname: "pi-office"}, "c", now)
	if err != nil {
		t.Fatal(err)
	}
	cy := func(at time.Time, check, target string, ok, finding bool, sev, detail, fix string) point.Point {
		f := map[string]any{"ok": ok, "finding": finding, "severity": sev, "detail": detail}
		if fix != "" {
			f["fix"] = fix
		}
		return point.New("cyber", map[string]string{store.TagSite: "oak", store.TagAgent: agent.ID, "check": check, "target": target, "vlan": "pupil"}, f, at)
	}
	h := now.Add(-time.Hour)
	pts := []point.Point{
		cy(h, "mail_dmarc", "oak.sch.uk", true, true, "medium", "DMARC policy is none: reports only, nothing is rejected.", "Move the DMARC policy to quarantine, then reject."),
		cy(h, "mgmt_exposure", "core-fw:443", true, true, "high", "The firewall's HTTPS management answered from the pupil VLAN.", "Allow management only from the management VLAN."),
		cy(h, "mail_spf", "oak.sch.uk", true, false, "none", "v=spf1 include:spf.protection.outlook.com -all", ""),
		// fixed since: only the latest result counts
		cy(now.Add(-5*time.Hour), "mgmt_cleartext", "core-sw:23", true, true, "medium", "Telnet answered.", "Turn Telnet off."),
		cy(h, "mgmt_cleartext", "core-sw:23", true, false, "none", "Telnet refused.", ""),
		cy(h, "firmware", "core-fw", false, false, "none", "The device did not answer SNMP.", ""),
		// older than the window
		cy(now.Add(-100*time.Hour), "tls", "https://mis.oak.sch.uk", true, true, "high", "Certificate expired.", "Renew it."),
	}
	if _, err := st.WriteBatch(ctx, store.Batch{ID: "c1", Agent: agent, Points: pts}, now); err != nil {
		t.Fatal(err)
	}
	r, err := Build(ctx, st, standards.Default(), "oak", now)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Cyber
	if c == nil {
		t.Fatal("no cyber section")
	}
	if c.Checks != 5 || c.Clean != 2 || len(c.Incomplete) != 1 || c.Incomplete[0].Target != "core-fw" {
		t.Errorf("summary: checks %d clean %d incomplete %+v", c.Checks, c.Clean, c.Incomplete)
	}
	var got []string
	for _, f := range c.Findings {
		got = append(got, f.Check+"/"+f.Target+"/"+f.Severity)
	}
	if strings.Join(got, " ") != "mgmt_exposure/core-fw:443/high mail_dmarc/oak.sch.uk/medium" {
		t.Errorf("findings, worst first: %v", got)
	}
	if c.Findings[0].Fix == "" || c.Findings[0].Agent != "pi-office" || c.Findings[0].Name != "Management port reachable" {
		t.Errorf("finding: %+v", c.Findings[0])
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Cyber security checks", "2 of 5", "core-fw:443", "Allow management only from the management VLAN.", "Could not tell for 1"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	var pdf bytes.Buffer
	if err := r.WritePDF(&pdf); err != nil || pdf.Len() == 0 {
		t.Fatalf("pdf: %v", err)
	}
	// The PDF carries the same findings and fixes.
	pdftotext := testenv.RequireBinary(t, "pdftotext")
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command(pdftotext, file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	flat := strings.Join(strings.Fields(string(text)), " ")
	for _, want := range []string{"Cyber security checks", "2 of 5 found something to fix", "core-fw:443", "What to do: Allow management only from the management VLAN.",
		"Could not tell: Firmware at or above the minimum safe version of core-fw"} {
		if !strings.Contains(flat, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}
