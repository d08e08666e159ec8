package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShippedSuiteLoads(t *testing.T) {
	set, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	s := set.Get(DefaultName)
	if s == nil {
		t.Fatalf("no default suite in %v", set.Names())
	}
	kinds := map[string]int{}
	placeholders := 0
	for _, c := range s.Categories {
		kinds[c.Kind]++
		for _, tg := range c.Targets {
			if !tg.Configured() {
				placeholders++
				if !tg.Placeholder {
					t.Errorf("%s: unconfigured target that is not a placeholder", tg.ID)
				}
			}
			if c.Kind == KindMustBlock && tg.Source == "" {
				t.Errorf("%s: a must-block target without a source", tg.ID)
			}
		}
	}
	for _, k := range []string{KindMustBlock, KindMustAllow, KindSafeSearch, KindCircumvention} {
		if kinds[k] == 0 {
			t.Errorf("no %s category", k)
		}
	}
	// IWF, CTIRU, the provider's adult test page and the VPN endpoint
	// wait for the school.
	if placeholders != 4 {
		t.Errorf("%d unconfigured placeholders, want 4", placeholders)
	}
}

func TestBadSuites(t *testing.T) {
	cases := map[string][]string{
		"unknown-key.yaml": {`unknown-key.yaml:11: categories[0].targets[0]: unknown key "sorce"`},
		"bad-url.yaml": {
			`bad-url.yaml:10: categories[0].targets[0].url: "ftp://example.com/file": only http and https URLs are tested`,
			`bad-url.yaml:12: categories[0].targets[1].host: "not_a_host" is not a valid host name`,
		},
		"duplicate-id.yaml": {`duplicate-id.yaml:16: categories[1].targets[0].id: duplicate target id "nhs" (also categories[0].targets[0])`},
		"bad-safesearch.yaml": {
			`bad-safesearch.yaml:9: categories[0].targets[0].engine: required`,
			`bad-safesearch.yaml:12: categories[0].targets[0].enforced[0].cname: "not a host" is not a valid host name`,
			`bad-safesearch.yaml:13: categories[0].targets[0].enforced[1].addresses[0]: "216.239.38" is not an IP address`,
			`bad-safesearch.yaml:16: categories[0].targets[0].verify.method: unknown method "magic"`,
			`bad-safesearch.yaml:17: categories[0].targets[0].verify.markers[0].pattern: error parsing regexp`,
			`bad-safesearch.yaml:25: categories[1].targets[0].dns_only: only for circumvention targets given by host`,
			`bad-safesearch.yaml:26: categories[1].targets[0].enforced: only for safesearch targets`,
		},
		"both-url-host.yaml": {
			`both-url-host.yaml:7: categories[0].expect: "block": kind must_allow expects allow`,
			`both-url-host.yaml:9: categories[0].targets[0]: has both url and host: give one`,
			`both-url-host.yaml:13: categories[0].targets[1].placeholder: only must_block and circumvention targets can be placeholders`,
		},
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(cases) {
		t.Errorf("%d files in testdata/bad, %d cases", len(files), len(cases))
	}
	for name, wants := range cases {
		data, err := os.ReadFile(filepath.Join("testdata/bad", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(data, name)
		if err == nil {
			t.Errorf("%s: loaded without error", name)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error\n%v\nlacks\n%s", name, err, w)
			}
		}
	}
}

func TestOverrideFolder(t *testing.T) {
	set, err := Load("testdata/override")
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Names(); strings.Join(got, ",") != "default,extra" {
		t.Errorf("suites %v", got)
	}
	d := set.Get(DefaultName)
	if !strings.HasPrefix(d.File, "testdata/override") {
		t.Fatalf("default not replaced: %s", d.File)
	}
	if len(d.Categories) != 1 {
		t.Errorf("replaced suite kept shipped categories: %d", len(d.Categories))
	}
	iwf, ctiru := d.Categories[0].Targets[0], d.Categories[0].Targets[1]
	if !iwf.Configured() || iwf.Hostname() != "iwf-test.example.org" {
		t.Errorf("configured placeholder: %+v", iwf)
	}
	if ctiru.Configured() {
		t.Errorf("unconfigured placeholder reports configured: %+v", ctiru)
	}
	if e := set.Get("extra"); e == nil || e.Categories[0].Targets[0].URL != "https://www.ucas.com/" {
		t.Errorf("added suite: %+v", e)
	}

	// Two files in one folder with the same name is an error, not a
	// silent choice.
	dir := t.TempDir()
	doc := "name: dup\ndescription: d\ncategories:\n  - id: a\n    name: A\n    kind: must_allow\n    expect: allow\n    targets:\n      - id: x\n        url: https://www.nhs.uk/\n"
	for _, f := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `suite "dup" is also defined in`) {
		t.Errorf("duplicate in folder: got %v", err)
	}
	// A broken school file fails the load with its name and line.
	if err := os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("name: other\ncolour: red\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `b.yaml:2: unknown key "colour"`) {
		t.Errorf("bad school file: got %v", err)
	}
}

func TestEmptyFile(t *testing.T) {
	if _, err := Parse([]byte("# nothing\n"), "empty.yaml"); err == nil || err.Error() != "empty.yaml: empty file" {
		t.Errorf("empty: %v", err)
	}
}
