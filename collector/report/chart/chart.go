// Package chart draws a report's daily figure over a period against its
// threshold: one line chart, the same in the HTML page (SVG) and the PDF.
//
// Layout computes the chart once as primitives (lines, polylines,
// markers and texts at positions in points, 1/72 inch) and two small
// backends draw them: WriteSVG and DrawPDF. Days without data leave a gap
// in the line; days on the wrong side of the threshold have a triangle
// marker, not only another colour, so the chart reads in black and white.
package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Chart is what is drawn: one value per UTC day between From and To,
// against a threshold the value must compare with by Op (ge, gt, le, lt,
// eq, ne).
type Chart struct {
	Title     string // "Download speed (daily median)"
	Unit      string // "Mbit/s", "%", "ms"; "" or "count" for none
	Threshold float64
	Op        string
	From, To  time.Time
	Points    []Point // in day order
}

// Point is one day's value; Day is the start of the UTC day.
type Point struct {
	Day   time.Time
	Value float64
}

// Style says what a primitive is; the backends choose its colour, width
// and dashes.
type Style int

// Styles.
const (
	StyleText      Style = iota
	StyleTitle           // the title
	StyleMuted           // tick labels, the no-data note
	StyleGrid            // horizontal lines at the value ticks
	StyleAxis            // the axes and tick marks
	StyleThreshold       // the threshold line and its label
	StyleData            // the line through the days
	StyleMet             // a day that meets the threshold
	StyleNotMet          // a day that does not
)

// Shape is a marker's shape.
type Shape int

// Shapes: a met day is a dot, a day that fails a triangle pointing to
// the side of the threshold it is on.
const (
	Circle Shape = iota
	TriangleDown
	TriangleUp
)

// Anchor is where a text sits relative to its position.
type Anchor int

// Anchors.
const (
	Start Anchor = iota
	Middle
	End
)

// XY is a position in points from the top left corner.
type XY struct{ X, Y float64 }

// Line is a straight line; Dashed for the threshold.
type Line struct {
	A, B   XY
	Style  Style
	Dashed bool
}

// Polyline joins consecutive days with data.
type Polyline struct {
	Points []XY
	Style  Style
}

// Marker is one day's point.
type Marker struct {
	At    XY
	Shape Shape
	Size  float64 // radius of the circle or of the triangle's circumcircle
	Style Style
}

// Text is a label; At is the start, middle or end of its baseline.
type Text struct {
	At     XY
	S      string
	Anchor Anchor
	Size   float64 // font size in points
	Bold   bool
	Halo   bool // on a white background, to stay legible over the data
	Style  Style
}

// Tick is one axis tick: its value (days since From for the time axis)
// and where and how it is labelled.
type Tick struct {
	Value float64
	Pos   float64
	Label string
}

// Stats sums the points up.
type Stats struct {
	N         int     // days with a value
	Min, Max  float64 // of the values
	Failing   int     // days that do not meet the threshold
	Crossings int     // times the line crosses to the other side between consecutive days
	Runs      int     // stretches of consecutive days (the gaps split them)
}

// Layout is a computed chart, in points.
type Layout struct {
	Width, Height float64
	Title, Desc   string // the accessible name and description
	// Plot is the area the data is drawn in: X0 < X1, Y0 (top) < Y1.
	PlotX0, PlotY0, PlotX1, PlotY1 float64
	XTicks, YTicks                 []Tick
	Stats                          Stats

	Lines     []Line // grid, axes, ticks, then the threshold
	Polylines []Polyline
	Markers   []Marker
	Texts     []Text
}

const (
	fontSize  = 9.0
	titleSize = 10.0
	day       = 24 * time.Hour
)

// Compute lays c out in a width by height box.
func Compute(c Chart, width, height float64) Layout {
	l := Layout{Width: width, Height: height, Title: c.Title}
	l.Stats = stats(c)

	// The value axis: nice ticks from 0 (or the lowest value when below
	// 0) to above the highest value and the threshold.
	lo, hi := math.Min(0, c.Threshold), c.Threshold
	if l.Stats.N > 0 {
		lo, hi = math.Min(lo, l.Stats.Min), math.Max(hi, l.Stats.Max)
	}
	if hi <= lo {
		hi = lo + 1
	}
	plotH := height - 26 - 20
	yt, ymin, ymax := niceTicks(lo, hi, int(math.Max(2, math.Min(6, plotH/22))))
	labelW := 0.0
	for i := range yt {
		yt[i].Label = withUnit(yt[i].Label, c.Unit)
		labelW = math.Max(labelW, textWidth(yt[i].Label, fontSize))
	}
	l.PlotX0, l.PlotY0 = math.Round(labelW+10), 26.0
	l.PlotX1, l.PlotY1 = width-10, height-20
	yPos := func(v float64) float64 {
		return l.PlotY1 - (v-ymin)/(ymax-ymin)*(l.PlotY1-l.PlotY0)
	}
	for i := range yt {
		yt[i].Pos = yPos(yt[i].Value)
	}
	l.YTicks = yt

	// The time axis: the period, each day at its middle.
	span := c.To.Sub(c.From)
	if span <= 0 {
		span = day
	}
	xPos := func(t time.Time) float64 {
		f := float64(t.Sub(c.From)) / float64(span)
		return l.PlotX0 + math.Max(0, math.Min(1, f))*(l.PlotX1-l.PlotX0)
	}
	l.XTicks = timeTicks(c.From, c.To, int(math.Max(2, (l.PlotX1-l.PlotX0)/60)))
	for i := range l.XTicks {
		l.XTicks[i].Pos = xPos(c.From.Add(time.Duration(l.XTicks[i].Value * float64(day))))
	}

	// Grid and axes.
	for _, t := range l.YTicks {
		l.Lines = append(l.Lines, Line{A: XY{l.PlotX0, t.Pos}, B: XY{l.PlotX1, t.Pos}, Style: StyleGrid})
		l.Texts = append(l.Texts, Text{At: XY{l.PlotX0 - 5, t.Pos + fontSize*0.35}, S: t.Label, Anchor: End, Size: fontSize, Style: StyleMuted})
	}
	l.Lines = append(l.Lines,
		Line{A: XY{l.PlotX0, l.PlotY0}, B: XY{l.PlotX0, l.PlotY1}, Style: StyleAxis},
		Line{A: XY{l.PlotX0, l.PlotY1}, B: XY{l.PlotX1, l.PlotY1}, Style: StyleAxis})
	for _, t := range l.XTicks {
		l.Lines = append(l.Lines, Line{A: XY{t.Pos, l.PlotY1}, B: XY{t.Pos, l.PlotY1 + 4}, Style: StyleAxis})
		half := textWidth(t.Label, fontSize) / 2 // kept inside the box
		x := math.Max(half, math.Min(width-half, t.Pos))
		l.Texts = append(l.Texts, Text{At: XY{x, l.PlotY1 + 4 + fontSize}, S: t.Label, Anchor: Middle, Size: fontSize, Style: StyleMuted})
	}

	// The threshold and its label, above the line at the right.
	ty := yPos(c.Threshold)
	l.Lines = append(l.Lines, Line{A: XY{l.PlotX0, ty}, B: XY{l.PlotX1, ty}, Style: StyleThreshold, Dashed: true})
	l.Texts = append(l.Texts, Text{At: XY{l.PlotX1 - 2, ty - 3}, S: "needs " + opSign(c.Op) + " " + withUnit(Number(c.Threshold), c.Unit),
		Anchor: End, Size: fontSize, Halo: true, Style: StyleThreshold})

	// The data: a polyline per run of consecutive days, a marker per day
	// where they are far enough apart to tell, and always where a day
	// fails or stands alone.
	spacing := (l.PlotX1 - l.PlotX0) / math.Max(1, float64(span)/float64(day))
	for _, run := range runs(c.Points) {
		var pl Polyline
		for _, p := range run {
			at := XY{round2(xPos(p.Day.Add(day / 2))), round2(yPos(p.Value))}
			pl.Points = append(pl.Points, at)
			switch {
			case !meets(p.Value, c.Op, c.Threshold):
				shape := TriangleDown
				if p.Value > c.Threshold {
					shape = TriangleUp
				}
				l.Markers = append(l.Markers, Marker{At: at, Shape: shape, Size: 3.5, Style: StyleNotMet})
			case len(run) == 1 || spacing >= 6:
				l.Markers = append(l.Markers, Marker{At: at, Shape: Circle, Size: 2, Style: StyleMet})
			}
		}
		if len(pl.Points) > 1 {
			pl.Style = StyleData
			l.Polylines = append(l.Polylines, pl)
		}
	}
	if l.Stats.N == 0 {
		l.Texts = append(l.Texts, Text{At: XY{(l.PlotX0 + l.PlotX1) / 2, (l.PlotY0 + l.PlotY1) / 2}, S: "No data in this period",
			Anchor: Middle, Size: fontSize, Style: StyleMuted})
	}
	l.Texts = append(l.Texts, Text{At: XY{0, titleSize + 2}, S: c.Title, Size: titleSize, Bold: true, Style: StyleTitle})
	l.Desc = describe(c, l.Stats)
	return l
}

// describe is the chart in a sentence, for screen readers and the PDF's
// text: "Download speed (daily median), 1 Dec 2025 to 1 Dec 2026: 320
// values from 41 to 118 Mbit/s; threshold ≥ 100 Mbit/s; 12 days below".
func describe(c Chart, s Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s to %s: ", c.Title, c.From.UTC().Format("2 Jan 2006"), c.To.UTC().Format("2 Jan 2006"))
	switch s.N {
	case 0:
		b.WriteString("no values")
	case 1:
		fmt.Fprintf(&b, "1 value, %s", withUnit(Number(s.Min), c.Unit))
	default:
		fmt.Fprintf(&b, "%d values from %s to %s", s.N, Number(s.Min), withUnit(Number(s.Max), c.Unit))
	}
	fmt.Fprintf(&b, "; threshold %s %s", opSign(c.Op), withUnit(Number(c.Threshold), c.Unit))
	if s.N > 0 {
		fmt.Fprintf(&b, "; %d %s %s", s.Failing, plural(s.Failing, "day", "days"), failingWord(c.Op))
	}
	return b.String()
}

func failingWord(op string) string {
	switch op {
	case "ge", "gt":
		return "below"
	case "le", "lt":
		return "above"
	}
	return "not meeting it"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func stats(c Chart) Stats {
	s := Stats{N: len(c.Points), Runs: len(runs(c.Points))}
	for i, p := range c.Points {
		if i == 0 || p.Value < s.Min {
			s.Min = p.Value
		}
		if i == 0 || p.Value > s.Max {
			s.Max = p.Value
		}
		if !meets(p.Value, c.Op, c.Threshold) {
			s.Failing++
		}
		if i > 0 && consecutive(c.Points[i-1], p) && meets(c.Points[i-1].Value, c.Op, c.Threshold) != meets(p.Value, c.Op, c.Threshold) {
			s.Crossings++
		}
	}
	return s
}

// runs splits points at the days without data.
func runs(ps []Point) [][]Point {
	var out [][]Point
	for i, p := range ps {
		if i == 0 || !consecutive(ps[i-1], p) {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], p)
	}
	return out
}

func consecutive(a, b Point) bool {
	return b.Day.Sub(a.Day) <= day
}

// meets says whether v compares with t by op.
func meets(v float64, op string, t float64) bool {
	switch op {
	case "ge":
		return v >= t
	case "gt":
		return v > t
	case "le":
		return v <= t
	case "lt":
		return v < t
	case "eq":
		return v == t
	case "ne":
		return v != t
	}
	return true
}

func opSign(op string) string {
	if s, ok := map[string]string{"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "eq": "=", "ne": "≠"}[op]; ok {
		return s
	}
	return op
}

// Number writes a value with as many decimals as its size needs: 118,
// 41.5, 0.25.
func Number(v float64) string {
	prec := 2
	switch a := math.Abs(v); {
	case a >= 100:
		prec = 0
	case a >= 10:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func withUnit(s, unit string) string {
	switch unit {
	case "", "count":
		return s
	case "%":
		return s + "%"
	}
	return s + " " + unit
}

// textWidth estimates a text's width: the layout needs no font metrics
// to within a few points.
func textWidth(s string, size float64) float64 {
	return float64(len([]rune(s))) * size * 0.55
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// niceTicks chooses at most about n ticks at 1, 2 or 5 times a power of
// ten covering [lo, hi], and the axis range they span.
func niceTicks(lo, hi float64, n int) ([]Tick, float64, float64) {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	start, end := math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if end <= hi { // room above the highest value or the threshold
		end += step
	}
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step)))
		if step*math.Pow(10, float64(dec)) != math.Round(step*math.Pow(10, float64(dec))) {
			dec++
		}
	} else if step != math.Round(step) {
		dec = 1
	}
	var ts []Tick
	for i := 0; ; i++ {
		v := start + float64(i)*step
		if v > end+step/1e6 {
			break
		}
		v = math.Round(v/step*1e6) / 1e6 * step
		label := strconv.FormatFloat(v+0, 'f', dec, 64)
		if strings.Contains(label, ".") {
			label = strings.TrimSuffix(strings.TrimRight(label, "0"), ".")
		}
		ts = append(ts, Tick{Value: v, Label: label})
	}
	return ts, start, end
}

// timeTicks chooses at most about n ticks over [from, to): every day,
// every few days or weeks, or at the start of every month or few months.
// A tick's Value is its time in days since from.
func timeTicks(from, to time.Time, n int) []Tick {
	from, to = from.UTC(), to.UTC()
	days := to.Sub(from).Hours() / 24
	var ts []Tick
	add := func(t time.Time, label string) {
		if !t.Before(from) && !t.After(to) {
			ts = append(ts, Tick{Value: t.Sub(from).Hours() / 24, Label: label})
		}
	}
	for _, step := range []int{1, 2, 7, 14} {
		if days/float64(step) <= float64(n) {
			t := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
			if t.Before(from) {
				t = t.Add(day)
			}
			if step == 7 || step == 14 { // on Mondays
				for t.Weekday() != time.Monday {
					t = t.Add(day)
				}
			}
			for ; !t.After(to); t = t.AddDate(0, 0, step) {
				add(t, t.Format("2 Jan"))
			}
			return ts
		}
	}
	months := 1
	for _, m := range []int{1, 2, 3, 6, 12} {
		months = m
		if days/30.4/float64(m) <= float64(n) {
			break
		}
	}
	t := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	if t.Before(from) {
		t = t.AddDate(0, 1, 0)
	}
	for (int(t.Month())-1)%months != 0 {
		t = t.AddDate(0, 1, 0)
	}
	for ; !t.After(to); t = t.AddDate(0, months, 0) {
		label := t.Format("Jan")
		if len(ts) == 0 || t.Month() == time.January {
			label = t.Format("Jan 2006")
		}
		add(t, label)
	}
	return ts
}
