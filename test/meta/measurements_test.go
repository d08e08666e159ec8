package meta

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probity-edu/probity/collector/standards"
)

var update = flag.Bool("update", false, "rewrite docs/measurements.md from collector/standards/measurements.yaml")

// measurementsDoc renders the measurement table as Markdown.
func measurementsDoc(t standards.Table) string {
	var b strings.Builder
	b.WriteString("# Measurements\n\n")
	b.WriteString("Every measurement the agent produces, with its tags and fields. This page is generated from\n")
	b.WriteString("`collector/standards/measurements.yaml` (the contract that scoring rules are checked against) by\n")
	b.WriteString("`go test ./test/meta -run TestMeasurementsDoc -update`; a test fails when the two differ.\n\n")
	b.WriteString("Tags on every point, set by the collector:\n\n")
	for _, tg := range t.CommonTags {
		fmt.Fprintf(&b, "- `%s`: %s\n", tg.Name, tg.Doc)
	}
	for _, m := range t.Measurements {
		fmt.Fprintf(&b, "\n## `%s`\n\n%s\n\n", m.Name, m.Doc)
		if len(m.Tags) > 0 {
			b.WriteString("| tag | meaning | values |\n|---|---|---|\n")
			for _, tg := range m.Tags {
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", tg.Name, cell(tg.Doc), cell(strings.Join(tg.Values, ", ")))
			}
			b.WriteString("\n")
		}
		b.WriteString("| field | type | unit | meaning |\n|---|---|---|---|\n")
		for _, f := range m.Fields {
			doc := f.Doc
			if len(f.Values) > 0 {
				doc += " Values: " + strings.Join(f.Values, ", ") + "."
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, f.Type, cell(f.Unit), cell(doc))
		}
	}
	return b.String()
}

func cell(s string) string {
	if s == "" {
		return ""
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

func TestMeasurementsDoc(t *testing.T) {
	path := filepath.Join(root, "docs", "measurements.md")
	want := measurementsDoc(standards.Measurements())
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("docs/measurements.md is out of date: run go test ./test/meta -run TestMeasurementsDoc -update")
	}
}
