package chart

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// SVG writes c as an accessible SVG image of width by height points.
func SVG(w io.Writer, c Chart, width, height float64) error {
	return Compute(c, width, height).WriteSVG(w)
}

// svgStyle is each style's look in SVG; the page's print stylesheet
// needs nothing more, the markers carry the meaning without colour.
var svgStyle = map[Style]string{
	StyleText:      `fill="#1f1f1f"`,
	StyleTitle:     `fill="#1f1f1f"`,
	StyleMuted:     `fill="#555"`,
	StyleGrid:      `stroke="#e3e3e3" stroke-width="1"`,
	StyleAxis:      `stroke="#777" stroke-width="1"`,
	StyleThreshold: `stroke="#333" stroke-width="1.2" fill="#333"`,
	StyleData:      `stroke="#1a4f8b" stroke-width="1.4" fill="none" stroke-linejoin="round"`,
	StyleMet:       `fill="#1a4f8b"`,
	StyleNotMet:    `fill="#b3261e" stroke="#1f1f1f" stroke-width=".6"`,
}

// WriteSVG draws the layout as SVG.
func (l Layout) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="%s" height="%s" viewBox="0 0 %s %s" font-family="system-ui, sans-serif">`+"\n",
		n(l.Width), n(l.Height), n(l.Width), n(l.Height))
	fmt.Fprintf(bw, "<title>%s</title>\n<desc>%s</desc>\n", html.EscapeString(l.Title), html.EscapeString(l.Desc))
	for _, ln := range l.Lines {
		dash := ""
		if ln.Dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(bw, `<line x1="%s" y1="%s" x2="%s" y2="%s" %s%s/>`+"\n", n(ln.A.X), n(ln.A.Y), n(ln.B.X), n(ln.B.Y), svgStyle[ln.Style], dash)
	}
	for _, pl := range l.Polylines {
		var pts []string
		for _, p := range pl.Points {
			pts = append(pts, n(p.X)+","+n(p.Y))
		}
		fmt.Fprintf(bw, `<polyline points="%s" %s/>`+"\n", strings.Join(pts, " "), svgStyle[pl.Style])
	}
	for _, m := range l.Markers {
		if m.Shape == Circle {
			fmt.Fprintf(bw, `<circle cx="%s" cy="%s" r="%s" %s/>`+"\n", n(m.At.X), n(m.At.Y), n(m.Size), svgStyle[m.Style])
			continue
		}
		var pts []string
		for _, p := range m.triangle() {
			pts = append(pts, n(p.X)+","+n(p.Y))
		}
		fmt.Fprintf(bw, `<polygon points="%s" %s/>`+"\n", strings.Join(pts, " "), svgStyle[m.Style])
	}
	for _, t := range l.Texts {
		anchor := map[Anchor]string{Start: "", Middle: ` text-anchor="middle"`, End: ` text-anchor="end"`}[t.Anchor]
		weight := ""
		if t.Bold {
			weight = ` font-weight="600"`
		}
		style := svgStyle[t.Style]
		if t.Style == StyleThreshold {
			style = `fill="#333"`
		}
		if t.Halo {
			style += ` stroke="#fff" stroke-width="3" paint-order="stroke"`
		}
		fmt.Fprintf(bw, `<text x="%s" y="%s" font-size="%s"%s%s %s>%s</text>`+"\n", n(t.At.X), n(t.At.Y), n(t.Size), anchor, weight, style, html.EscapeString(t.S))
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// triangle is a triangle marker's corners: pointing down for a day below
// the threshold, up for one above.
func (m Marker) triangle() []XY {
	s := m.Size
	h := s * math.Sqrt(3) / 2
	if m.Shape == TriangleUp {
		return []XY{{m.At.X, m.At.Y - s}, {m.At.X + h, m.At.Y + s/2}, {m.At.X - h, m.At.Y + s/2}}
	}
	return []XY{{m.At.X, m.At.Y + s}, {m.At.X + h, m.At.Y - s/2}, {m.At.X - h, m.At.Y - s/2}}
}

// n writes a coordinate with at most two decimals.
func n(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}
