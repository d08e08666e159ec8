package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html static/web.css static/bar.css static/favicon.svg
var files embed.FS

func mustRead(name string) []byte {
	b, err := fs.ReadFile(files, name)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	css    = mustRead("static/web.css")
	barCSS = mustRead("static/bar.css")
	icon   = mustRead("static/favicon.svg")
)

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"ptime": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"stateclass": func(state string) string {
		return "st-" + strings.ReplaceAll(state, "_", "-")
	},
}

// pages are parsed once: the layout with each page's content.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, p := range []string{"login.html", "fleet.html", "school.html", "error.html"} {
		out[p] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+p))
	}
	out["bar.html"] = template.Must(template.New("bar.html").Funcs(funcs).ParseFS(files, "templates/bar.html"))
	return out
}()

// layout is what every page's frame shows.
type layout struct {
	Title string
	User  string // signed-in name, "" for nobody
	Role  string
	CSRF  string
	Data  any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page string, c *call, title string, data any) {
	l := layout{Title: title, Data: data}
	if c.P.User != nil {
		l.User, l.Role = c.P.User.Name, roleLabel(c.P.User.Role)
	} else if c.P.Admin != nil {
		l.User, l.Role = c.P.Admin.Name, "admin token"
	}
	if c.P.Session != nil {
		l.CSRF = c.P.Session.CSRF
	}
	var buf bytes.Buffer
	if err := pages[page].Execute(&buf, l); err != nil {
		s.Log.Error("rendering a page", "page", page, "err", err)
		http.Error(w, "page failed; see the collector log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, c *call, code int, msg string) {
	s.render(w, r, code, "error.html", c, http.StatusText(code), msg)
}

func roleLabel(role string) string {
	switch role {
	case "trust_admin":
		return "trust administrator"
	case "school_viewer":
		return "school viewer"
	}
	return role
}

func (s *Server) css(w http.ResponseWriter, r *http.Request, _ *call) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	if r.URL.Path == "/static/bar.css" {
		_, _ = w.Write(barCSS)
		return
	}
	_, _ = w.Write(css)
}

// favicon answers the icon browsers ask for on every page (a 404 there
// is a console error on every page).
func (s *Server) favicon(w http.ResponseWriter, _ *http.Request, _ *call) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(icon)
}

// inject puts the bar's HTML straight after the <body> tag of a whole
// page rendered by the report package, its style sheet before </head>,
// and tail before </body>, so the report keeps its own document.
func inject(page []byte, bar, tail []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(page) + len(bar) + len(tail) + 128)
	link := []byte(`<link rel="stylesheet" href="/static/bar.css">`)
	if i := bytes.Index(page, []byte("</head>")); i >= 0 {
		page = append(append(append([]byte{}, page[:i]...), link...), page[i:]...)
	}
	i := bytes.Index(page, []byte("<body"))
	j := -1
	if i >= 0 {
		if k := bytes.IndexByte(page[i:], '>'); k >= 0 {
			j = i + k + 1
		}
	}
	if j < 0 {
		out.Write(bar)
		out.Write(page)
		out.Write(tail)
		return out.Bytes()
	}
	out.Write(page[:j])
	out.Write(bar)
	rest := page[j:]
	if e := bytes.LastIndex(rest, []byte("</body>")); e >= 0 {
		out.Write(rest[:e])
		out.Write(tail)
		out.Write(rest[e:])
	} else {
		out.Write(rest)
		out.Write(tail)
	}
	return out.Bytes()
}
