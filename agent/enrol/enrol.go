// Package enrol exchanges a one-time enrolment token for the agent's own
// credential and keeps that credential in the state directory (mode 0600).
package enrol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/probity-edu/probity/internal/wire"
)

// Credential is what enrolment leaves on disk.
type Credential struct {
	CollectorURL string    `json:"collector_url"`
	AgentID      string    `json:"agent_id"`
	Site         string    `json:"site"`
	SiteName     string    `json:"site_name,omitempty"`
	Secret       string    `json:"credential"`
	EnrolledAt   time.Time `json:"enrolled_at"`
}

// ErrNotEnrolled is returned by Load when there is no credential file.
var ErrNotEnrolled = errors.New("enrol: this agent is not enrolled")

// Enrol asks the collector at base for a credential in exchange for token.
func Enrol(ctx context.Context, client *http.Client, base, token, hostname, version string) (Credential, error) {
	base = strings.TrimRight(base, "/")
	body, _ := json.Marshal(wire.EnrolRequest{Token: token, Hostname: hostname, Version: version})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+wire.EnrolPath, bytes.NewReader(body))
	if err != nil {
		return Credential{}, fmt.Errorf("enrol: bad collector URL %q: %w", base, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Credential{}, fmt.Errorf("enrol: cannot reach the collector at %s: %w", base, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		return Credential{}, fmt.Errorf("enrol: collector answered %s: %s", resp.Status, e.Error)
	}
	var er wire.EnrolResponse
	if err := json.Unmarshal(raw, &er); err != nil || er.Credential == "" || er.AgentID == "" {
		return Credential{}, fmt.Errorf("enrol: collector sent an unexpected answer (is %s a Probity collector?)", base)
	}
	return Credential{CollectorURL: base, AgentID: er.AgentID, Site: er.Site, SiteName: er.SiteName, Secret: er.Credential, EnrolledAt: time.Now().UTC()}, nil
}

// Save writes the credential atomically with mode 0600.
func Save(path string, c Credential) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("enrol: creating %s: %w", filepath.Dir(path), err)
	}
	data, _ := json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("enrol: writing %s: %w", tmp, err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("enrol: writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("enrol: syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	return nil
}

// Load reads a saved credential.
func Load(path string) (Credential, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Credential{}, fmt.Errorf("%w: no credential at %s; run `probity-agent enrol --collector URL --token T`", ErrNotEnrolled, path)
	}
	if err != nil {
		return Credential{}, fmt.Errorf("enrol: reading %s: %w", path, err)
	}
	var c Credential
	if err := json.Unmarshal(data, &c); err != nil || c.Secret == "" || c.CollectorURL == "" {
		return Credential{}, fmt.Errorf("enrol: %s is not a valid credential file; enrol again", path)
	}
	return c, nil
}
