package api

import (
	"errors"
	"net/http"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/wire"
)

// authAdmin resolves the bearer token to an admin token, or answers 401.
// Agent credentials are a different table and never pass.
func (s *Server) authAdmin(w http.ResponseWriter, r *http.Request) (store.AdminToken, bool) {
	deny := func(msg string) (store.AdminToken, bool) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="probity-collector"`)
		writeJSON(w, http.StatusUnauthorized, apiError{msg})
		return store.AdminToken{}, false
	}
	tok, err := wire.BearerToken(r)
	if err != nil {
		return deny("this route needs Authorization: Bearer <admin token>; create one with `probity-collector admin token --name NAME`")
	}
	t, err := s.Store.AdminByToken(r.Context(), store.HashSecret(tok))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.Log.Error("admin token lookup", "err", err)
		}
		return deny("unknown or revoked admin token")
	}
	return t, true
}
