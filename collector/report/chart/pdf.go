package chart

import (
	"codeberg.org/go-pdf/fpdf"
)

// PDFText turns a label into the PDF font's encoding (the report's
// cp1252 translation, with ≥ and the like spelt out).
type PDFText func(string) string

type rgb struct{ r, g, b int }

// pdfColour is each style's colour in the PDF, as in the SVG.
var pdfColour = map[Style]rgb{
	StyleText: {31, 31, 31}, StyleTitle: {31, 31, 31}, StyleMuted: {85, 85, 85},
	StyleGrid: {227, 227, 227}, StyleAxis: {119, 119, 119}, StyleThreshold: {51, 51, 51},
	StyleData: {26, 79, 139}, StyleMet: {26, 79, 139}, StyleNotMet: {179, 38, 30},
}

// PDF draws c into pdf with its top left corner at (x, y), width by
// height in the document's unit, which must be mm; text goes through tr.
func PDF(pdf *fpdf.Fpdf, c Chart, x, y, width, height float64, tr PDFText) {
	const ptMM = 25.4 / 72
	Compute(c, width/ptMM, height/ptMM).DrawPDF(pdf, x, y, ptMM, tr)
}

// DrawPDF draws the layout into pdf at (x, y), scale document units per
// point; the caller's font family is kept, its size, style and colours
// restored afterwards are the caller's business.
func (l Layout) DrawPDF(pdf *fpdf.Fpdf, x, y, scale float64, tr PDFText) {
	if tr == nil {
		tr = func(s string) string { return s }
	}
	at := func(p XY) (float64, float64) { return x + p.X*scale, y + p.Y*scale }
	setDraw := func(s Style) {
		c := pdfColour[s]
		pdf.SetDrawColor(c.r, c.g, c.b)
		pdf.SetFillColor(c.r, c.g, c.b)
	}
	width := map[Style]float64{StyleGrid: 1, StyleAxis: 1, StyleThreshold: 1.2, StyleData: 1.4}
	for _, ln := range l.Lines {
		setDraw(ln.Style)
		pdf.SetLineWidth(width[ln.Style] * scale)
		if ln.Dashed {
			pdf.SetDashPattern([]float64{5 * scale, 3 * scale}, 0)
		}
		x1, y1 := at(ln.A)
		x2, y2 := at(ln.B)
		pdf.Line(x1, y1, x2, y2)
		if ln.Dashed {
			pdf.SetDashPattern(nil, 0)
		}
	}
	pdf.SetLineJoinStyle("round")
	for _, pl := range l.Polylines {
		setDraw(pl.Style)
		pdf.SetLineWidth(width[pl.Style] * scale)
		for i := 1; i < len(pl.Points); i++ {
			x1, y1 := at(pl.Points[i-1])
			x2, y2 := at(pl.Points[i])
			pdf.Line(x1, y1, x2, y2)
		}
	}
	for _, m := range l.Markers {
		setDraw(m.Style)
		if m.Shape == Circle {
			cx, cy := at(m.At)
			pdf.Circle(cx, cy, m.Size*scale, "F")
			continue
		}
		var pts []fpdf.PointType
		for _, p := range m.triangle() {
			px, py := at(p)
			pts = append(pts, fpdf.PointType{X: px, Y: py})
		}
		pdf.SetDrawColor(31, 31, 31)
		pdf.SetLineWidth(0.6 * scale)
		pdf.Polygon(pts, "FD")
	}
	for _, t := range l.Texts {
		style := ""
		if t.Bold {
			style = "B"
		}
		pdf.SetFontStyle(style)
		pdf.SetFontSize(t.Size)
		c := pdfColour[t.Style]
		pdf.SetTextColor(c.r, c.g, c.b)
		s := tr(t.S)
		tx, ty := at(t.At)
		w := pdf.GetStringWidth(s)
		switch t.Anchor {
		case Middle:
			tx -= w / 2
		case End:
			tx -= w
		}
		if t.Halo {
			pdf.SetFillColor(255, 255, 255)
			pdf.Rect(tx-0.8, ty-t.Size*0.8*scale, w+1.6, t.Size*1.05*scale, "F")
		}
		pdf.Text(tx, ty, s)
	}
	pdf.SetTextColor(0, 0, 0)
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetFontStyle("")
}
