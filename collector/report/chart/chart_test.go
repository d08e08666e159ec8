package chart

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden SVG")

var start = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)

// series makes one point a day from start with the values given; NaN-free
// gaps are written as skip entries (negative index = no data that day).
func series(vals ...float64) []Point {
	var ps []Point
	for i, v := range vals {
		if v < 0 {
			continue
		}
		ps = append(ps, Point{Day: start.AddDate(0, 0, i), Value: v})
	}
	return ps
}

func TestLayout(t *testing.T) {
	const gap = -1
	cases := []struct {
		name                                 string
		c                                    Chart
		n, failing, crossings, runs, markers int
		polylines                            []int // points per polyline
		yTicks, xTicks                       string
		desc                                 string
	}{
		{
			name: "download speed with a gap",
			c: Chart{Title: "Download speed (daily median)", Unit: "Mbit/s", Threshold: 100, Op: "ge", From: start, To: start.AddDate(0, 0, 10),
				Points: series(120, 90, 110, gap, gap, 80, 85, 130, gap, 140)},
			n: 7, failing: 3, crossings: 3, runs: 3, markers: 7, polylines: []int{3, 3},
			yTicks: "0 Mbit/s|25 Mbit/s|50 Mbit/s|75 Mbit/s|100 Mbit/s|125 Mbit/s|150 Mbit/s", xTicks: "1 Dec|3 Dec|5 Dec|7 Dec|9 Dec|11 Dec",
			desc: "Download speed (daily median), 1 Dec 2025 to 11 Dec 2025: 7 values from 80 to 140 Mbit/s; threshold ≥ 100 Mbit/s; 3 days below",
		},
		{
			name: "latency, lower is better, a year",
			c: Chart{Title: "Latency (daily p90)", Unit: "ms", Threshold: 40, Op: "le", From: start, To: start.AddDate(1, 0, 0),
				Points: func() []Point {
					var ps []Point
					for i := 0; i < 365; i++ {
						v := 20.0
						if i%73 == 0 {
							v = 55.5
						}
						if i >= 100 && i < 110 {
							continue
						}
						ps = append(ps, Point{Day: start.AddDate(0, 0, i), Value: v})
					}
					return ps
				}()},
			// 5 days fail (0, 73, 146, 219, 292); only failing days have markers at this density.
			n: 355, failing: 5, crossings: 9, runs: 2, markers: 5, polylines: []int{100, 255},
			yTicks: "0 ms|10 ms|20 ms|30 ms|40 ms|50 ms|60 ms", xTicks: "Jan 2026|Mar|May|Jul|Sep|Nov",
			desc: "Latency (daily p90), 1 Dec 2025 to 1 Dec 2026: 355 values from 20 to 55.5 ms; threshold ≤ 40 ms; 5 days above",
		},
		{
			name: "share, one lone day",
			c: Chart{Title: "Lookups answered (daily share)", Unit: "%", Threshold: 99.5, Op: "ge", From: start, To: start.AddDate(0, 0, 30),
				Points: series(gap, gap, 99.9)},
			n: 1, failing: 0, runs: 1, markers: 1,
			yTicks: "0%|20%|40%|60%|80%|100%", xTicks: "1 Dec|8 Dec|15 Dec|22 Dec|29 Dec",
			desc: "Lookups answered (daily share), 1 Dec 2025 to 31 Dec 2025: 1 value, 99.9%; threshold ≥ 99.5%; 0 days below",
		},
		{
			name:   "no data",
			c:      Chart{Title: "Upload", Unit: "Mbit/s", Threshold: 0.5, Op: "gt", From: start, To: start.AddDate(0, 0, 3)},
			yTicks: "0 Mbit/s|0.1 Mbit/s|0.2 Mbit/s|0.3 Mbit/s|0.4 Mbit/s|0.5 Mbit/s|0.6 Mbit/s", xTicks: "1 Dec|2 Dec|3 Dec|4 Dec",
			desc: "Upload, 1 Dec 2025 to 4 Dec 2025: no values; threshold > 0.5 Mbit/s",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := Compute(tc.c, 560, 180)
			s := l.Stats
			if s.N != tc.n || s.Failing != tc.failing || s.Crossings != tc.crossings || s.Runs != tc.runs || len(l.Markers) != tc.markers {
				t.Errorf("n %d failing %d crossings %d runs %d markers %d; want %d %d %d %d %d",
					s.N, s.Failing, s.Crossings, s.Runs, len(l.Markers), tc.n, tc.failing, tc.crossings, tc.runs, tc.markers)
			}
			var pl []int
			for _, p := range l.Polylines {
				pl = append(pl, len(p.Points))
			}
			if !equalInts(pl, tc.polylines) {
				t.Errorf("polylines %v, want %v", pl, tc.polylines)
			}
			if got := labels(l.YTicks); got != tc.yTicks {
				t.Errorf("y ticks %s, want %s", got, tc.yTicks)
			}
			if got := labels(l.XTicks); got != tc.xTicks {
				t.Errorf("x ticks %s, want %s", got, tc.xTicks)
			}
			if l.Desc != tc.desc {
				t.Errorf("desc\n got %s\nwant %s", l.Desc, tc.desc)
			}
			// Everything is inside the box, the data inside the plot, ticks in order.
			for _, m := range l.Markers {
				if m.At.X < l.PlotX0 || m.At.X > l.PlotX1 || m.At.Y < l.PlotY0 || m.At.Y > l.PlotY1 {
					t.Errorf("marker %+v outside the plot", m.At)
				}
			}
			for _, txt := range l.Texts {
				if txt.At.X < 0 || txt.At.X > l.Width || txt.At.Y < 0 || txt.At.Y > l.Height {
					t.Errorf("text %q at %+v outside the box", txt.S, txt.At)
				}
			}
			for i := 1; i < len(l.XTicks); i++ {
				if l.XTicks[i].Pos <= l.XTicks[i-1].Pos {
					t.Errorf("x ticks out of order: %+v", l.XTicks)
				}
			}
			for i := 1; i < len(l.YTicks); i++ {
				if l.YTicks[i].Pos >= l.YTicks[i-1].Pos {
					t.Errorf("y ticks not going up: %+v", l.YTicks)
				}
			}
		})
	}
}

// TestScales: values map linearly onto the plot, a failing day below the
// line is a triangle pointing down under the threshold line, one above it
// a triangle pointing up.
func TestScales(t *testing.T) {
	c := Chart{Title: "x", Unit: "ms", Threshold: 50, Op: "ge", From: start, To: start.AddDate(0, 0, 4), Points: series(0, 50, 100, 25)}
	l := Compute(c, 400, 200)
	ys := map[float64]float64{}
	for _, tk := range l.YTicks {
		ys[tk.Value] = tk.Pos
	}
	if ys[0] != l.PlotY1 {
		t.Errorf("0 at %v, want the bottom %v", ys[0], l.PlotY1)
	}
	pts := l.Polylines[0].Points
	if mid := round2((ys[0] + ys[100]) / 2); pts[0].Y != ys[0] || pts[1].Y != mid || pts[2].Y != round2(ys[100]) {
		t.Errorf("points %+v, ticks %+v", pts, ys)
	}
	// Days sit at their middle: a quarter of the period each.
	w := l.PlotX1 - l.PlotX0
	if d := pts[1].X - pts[0].X; d < w/4-0.02 || d > w/4+0.02 || pts[0].X != round2(l.PlotX0+w/8) {
		t.Errorf("x positions %+v in [%v, %v]", pts, l.PlotX0, l.PlotX1)
	}
	var thr Line
	for _, ln := range l.Lines {
		if ln.Style == StyleThreshold {
			thr = ln
		}
	}
	if !thr.Dashed || round2(thr.A.Y) != pts[1].Y {
		t.Errorf("threshold line %+v", thr)
	}
	shapes := map[Shape]int{}
	for _, m := range l.Markers {
		shapes[m.Shape]++
		if m.Shape == TriangleDown && m.At.Y <= thr.A.Y {
			t.Errorf("a day below drawn at or above the threshold: %+v", m)
		}
	}
	if shapes[TriangleDown] != 2 || shapes[Circle] != 2 || shapes[TriangleUp] != 0 {
		t.Errorf("markers %v; want 2 down triangles and 2 dots", shapes)
	}
	c.Op = "le"
	shapes = map[Shape]int{}
	for _, m := range Compute(c, 400, 200).Markers {
		shapes[m.Shape]++
	}
	if shapes[TriangleUp] != 1 || shapes[Circle] != 3 {
		t.Errorf("le: markers %v; want 1 up triangle and 3 dots", shapes)
	}
}

func TestNumber(t *testing.T) {
	for in, want := range map[float64]string{118.4: "118", 41.55: "41.5", 0.25: "0.25", 100: "100", 2: "2", -0.001: "0", 99.9: "99.9"} {
		if got := Number(in); got != want {
			t.Errorf("Number(%v) = %s, want %s", in, got, want)
		}
	}
}

// TestSVGGolden: the SVG is well-formed, accessible and as recorded
// (go test -update rewrites testdata/download.svg).
func TestSVGGolden(t *testing.T) {
	c := Chart{Title: "Download speed (daily median)", Unit: "Mbit/s", Threshold: 100, Op: "ge", From: start, To: start.AddDate(0, 0, 14),
		Points: series(120, 90, 110, -1, -1, 80, 85, 130, -1, 140, 118, 101, 99, 104)}
	var b bytes.Buffer
	if err := SVG(&b, c, 560, 180); err != nil {
		t.Fatal(err)
	}
	got := b.Bytes()
	var doc struct {
		XMLName xml.Name
		Role    string `xml:"role,attr"`
		Title   string `xml:"title"`
		Desc    string `xml:"desc"`
	}
	if err := xml.Unmarshal(got, &doc); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
	if doc.XMLName.Local != "svg" || doc.Role != "img" || doc.Title != c.Title ||
		!strings.Contains(doc.Desc, "11 values from 80 to 140 Mbit/s; threshold ≥ 100 Mbit/s; 4 days below") {
		t.Errorf("svg %+v", doc)
	}
	for _, s := range []string{`stroke-dasharray`, `<polygon`, `<polyline`, `>needs ≥ 100 Mbit/s</text>`} {
		if !bytes.Contains(got, []byte(s)) {
			t.Errorf("svg lacks %s", s)
		}
	}
	golden := filepath.Join("testdata", "download.svg")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("SVG differs from %s (go test -update to accept):\n%s", golden, got)
	}
}

func labels(ts []Tick) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Label)
	}
	return strings.Join(s, "|")
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
