package api

import (
	"html/template"
	"net/http"
)

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Probity collector</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd}th{background:#f3f3f3}</style>
</head><body>
<h1>Probity collector</h1>
<p>Schools on this collector and their evidence reports against the DfE digital and technology standards.</p>
<table><thead><tr><th>School</th><th>Phase</th><th>URN</th><th>Report</th><th>Verdicts (JSON)</th></tr></thead><tbody>
{{range .}}<tr><td>{{.Name}}</td><td>{{.Phase}}</td><td>{{.URN}}</td><td><a href="/sites/{{.ID}}/report">evidence report</a></td><td><a href="/api/v1/sites/{{.ID}}/verdicts">verdicts</a></td></tr>
{{else}}<tr><td colspan="5">No schools yet: <code>probity-collector trust add NAME</code>, then <code>probity-collector site add</code>.</td></tr>{{end}}
</tbody></table>
<p><a href="/api/v1/trusts">trusts and their summaries (JSON)</a> · <a href="/metrics">metrics</a> · <a href="/healthz">health</a></p>
</body></html>
`))

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	sites, err := s.Store.Sites(r.Context())
	if err != nil {
		s.Log.Error("listing sites", "err", err)
		http.Error(w, "store unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexPage.Execute(w, sites); err != nil {
		s.Log.Error("index page", "err", err)
	}
}
