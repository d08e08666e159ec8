package score

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
)

var update = flag.Bool("update", false, "rewrite the verdicts.json section of testdata/*.txtar")

// goldenNow is the fixed Now of every golden case; point and attestation
// times are written relative to it.
var goldenNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// A golden case is a txtar archive:
//
//	comment: what the case shows
//	-- catalogue.yaml --     a catalogue snippet; or, instead,
//	-- requirements --       ids of the embedded catalogue to evaluate
//	-- phase --              the site's phase (may be empty)
//	-- points --             "<offset> <line protocol without time>" or
//	                         "every <d> from <offset> to <offset>: <line protocol>",
//	                         where {n} is the sample's index and {n%K} that modulo K
//	-- attestations.json --  [{"req_id", "by", "at": "-720h", "expires": "+24h"}]
//	-- verdicts.json --      the expected verdicts (rewritten by -update)
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a := parseTxtar(data)
			cat := goldenCatalogue(t, a)
			pts := parsePoints(t, a.get("points"))
			atts := parseAttestations(t, a.get("attestations.json"))
			eng := &Engine{Catalogue: cat, Source: newMemSource(pts)}
			vs, err := eng.EvaluateSite(context.Background(), "test-site", strings.TrimSpace(a.get("phase")), atts, goldenNow)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(vs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				a.set("verdicts.json", string(got)+"\n")
				if err := os.WriteFile(f, a.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(a.get("verdicts.json"), string(got)+"\n"); diff != "" {
				t.Errorf("verdicts differ (-want +got); run go test -update to accept:\n%s", diff)
			}
		})
	}
}

func goldenCatalogue(t *testing.T, a *txtar) *standards.Catalogue {
	t.Helper()
	if snippet := a.get("catalogue.yaml"); snippet != "" {
		c, err := standards.Load([]byte(snippet), "catalogue.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ids := strings.Fields(a.get("requirements"))
	if len(ids) == 0 {
		t.Fatal("a case needs a catalogue.yaml or a requirements section")
	}
	def := standards.Default()
	c := &standards.Catalogue{Version: def.Version, Checked: def.Checked}
	for _, id := range ids {
		r, ok := def.Requirement(id)
		if !ok {
			t.Fatalf("requirement %s is not in the embedded catalogue", id)
		}
		c.Requirements = append(c.Requirements, r)
	}
	return c
}

func parsePoints(t *testing.T, text string) []point.Point {
	t.Helper()
	var body bytes.Buffer
	emit := func(off time.Duration, lp string) {
		fmt.Fprintf(&body, "%s %d\n", strings.TrimSpace(lp), goldenNow.Add(off).UnixNano())
	}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "every "); ok {
			spec, lp, ok := strings.Cut(rest, ": ")
			var step, from, to string
			if _, err := fmt.Sscanf(spec, "%s from %s to %s", &step, &from, &to); !ok || err != nil {
				t.Fatalf("points line %d: want every <d> from <offset> to <offset>: <lp>", n+1)
			}
			d, f, u := dur(t, step), dur(t, from), dur(t, to)
			if d <= 0 {
				t.Fatalf("points line %d: step must be positive", n+1)
			}
			for i, off := 0, f; off < u; i, off = i+1, off+d {
				emit(off, counter.ReplaceAllStringFunc(lp, func(m string) string {
					k := counter.FindStringSubmatch(m)[1]
					if k == "" {
						return strconv.Itoa(i)
					}
					mod, _ := strconv.Atoi(k)
					return strconv.Itoa(i % mod)
				}))
			}
			continue
		}
		off, lp, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("points line %d: want <offset> <lp>", n+1)
		}
		emit(dur(t, off), lp)
	}
	pts, err := point.Decode(body.Bytes(), lineprotocol.Nanosecond, goldenNow)
	if err != nil {
		t.Fatalf("points: %v", err)
	}
	return pts
}

// counter is {n} or {n%K} in an "every" line: the sample's index, or the
// index modulo K, so a line can carry varying values.
var counter = regexp.MustCompile(`\{n(?:%([1-9][0-9]*))?\}`)

func dur(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(strings.TrimPrefix(s, "+"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func parseAttestations(t *testing.T, text string) []Attestation {
	t.Helper()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var raw []struct {
		ReqID   string `json:"req_id"`
		By      string `json:"by"`
		Note    string `json:"note"`
		Link    string `json:"link"`
		At      string `json:"at"`
		Expires string `json:"expires"`
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("attestations.json: %v", err)
	}
	var out []Attestation
	for _, r := range raw {
		a := Attestation{ReqID: r.ReqID, By: r.By, Note: r.Note, Link: r.Link, At: goldenNow.Add(dur(t, r.At))}
		if r.Expires != "" {
			a.Expires = goldenNow.Add(dur(t, r.Expires))
		}
		out = append(out, a)
	}
	return out
}

// memSource is a Source over points held in memory, rolled up by the
// store's own code (rollup.FromPoints: hourly buckets and daily ones merged
// from them) and selected as the store selects.
type memSource []rollup.Bucket

func newMemSource(pts []point.Point) memSource { return rollup.FromPoints("test-site", pts) }

func (m memSource) Buckets(_ context.Context, q Query) ([]rollup.Bucket, error) {
	var out []rollup.Bucket
	for i := range m {
		b := &m[i]
		if b.Site == q.Site && b.Measurement == q.Measurement && b.Field == q.Field && tagsMatch(b.Tags, q.Where) &&
			(!q.OnlyOK || b.OK == rollup.OKTrue) && rollup.Covers(q.Spans, b) {
			out = append(out, *b)
		}
	}
	return out, nil
}

// txtar is the archive format of golang.org/x/tools/txtar, small enough to
// read here rather than add a module for tests.
type txtar struct {
	comment string
	files   []txtarFile
}

type txtarFile struct{ name, data string }

func parseTxtar(data []byte) *txtar {
	a := &txtar{}
	cur := -1
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "-- "); ok && strings.HasSuffix(name, " --") {
			a.files = append(a.files, txtarFile{name: strings.TrimSuffix(name, " --")})
			cur++
			continue
		}
		if cur < 0 {
			a.comment += line
		} else {
			a.files[cur].data += line
		}
	}
	return a
}

func (a *txtar) get(name string) string {
	for _, f := range a.files {
		if f.name == name {
			return f.data
		}
	}
	return ""
}

func (a *txtar) set(name, data string) {
	for i, f := range a.files {
		if f.name == name {
			a.files[i].data = data
			return
		}
	}
	a.files = append(a.files, txtarFile{name: name, data: data})
}

func (a *txtar) format() []byte {
	var b bytes.Buffer
	b.WriteString(a.comment)
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n%s", f.name, f.data)
	}
	return b.Bytes()
}
