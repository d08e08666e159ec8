package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// InfluxDB is a real InfluxDB 1.8 server on loopback with auth off,
// built from the Go module proxy by scripts/setup-test.sh (1.8 is the
// newest release that builds without Rust). Its v2-compatible API takes
// writes as bucket "DB/autogen" or "DB" with any token.
type InfluxDB struct {
	// URL is the HTTP API's base, http://127.0.0.1:PORT.
	URL string
	// DB is the database created at start.
	DB string

	t    testing.TB
	bin  string
	conf string
	mu   sync.Mutex
	cmd  *exec.Cmd
	logs *SyncBuffer
	done chan struct{}
}

// StartInfluxDB starts influxd on free loopback ports with its data in a
// temporary directory, waits until it answers /ping, creates db (1.8 does
// not create databases on write) and stops it when the test ends.
func StartInfluxDB(t testing.TB, db string) *InfluxDB {
	t.Helper()
	bin := RequireCachedBinary(t, "influxd", "PROBITY_INFLUXD")
	dir := t.TempDir()
	httpPort, rpcPort := freeTCPPort(t), freeTCPPort(t)
	conf := filepath.Join(dir, "influxdb.conf")
	data := filepath.Join(dir, "data")
	body := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
  index-version = "inmem"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  auth-enabled = false
  log-enabled = false
  flux-enabled = true
[continuous_queries]
  enabled = false
`, rpcPort, filepath.Join(data, "meta"), filepath.Join(data, "data"), filepath.Join(data, "wal"), httpPort)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	i := &InfluxDB{URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), DB: db, t: t, bin: bin, conf: conf, logs: &SyncBuffer{}}
	t.Cleanup(func() {
		i.Stop()
		if t.Failed() {
			t.Logf("influxd output (last 4 KiB):\n%s", tail(i.logs.String(), 4096))
		}
	})
	i.Start()
	if _, err := i.Query("CREATE DATABASE " + quoteIdent(db)); err != nil {
		t.Fatalf("influxd: creating database %s: %v", db, err)
	}
	return i
}

// Start (re)starts the server on the same ports and data; it returns
// once /ping answers.
func (i *InfluxDB) Start() {
	i.t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cmd != nil {
		return
	}
	cmd := exec.Command(i.bin, "-config", i.conf)
	cmd.Stdout, cmd.Stderr = i.logs, i.logs
	if err := cmd.Start(); err != nil {
		i.t.Fatalf("starting influxd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	i.cmd, i.done = cmd, done
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(i.URL + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return
			}
		}
		select {
		case <-done:
			i.t.Fatalf("influxd exited at start:\n%s", tail(i.logs.String(), 4096))
		default:
		}
		if time.Now().After(deadline) {
			i.t.Fatalf("influxd did not answer /ping within 60s: %v", err)
		}
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s) and waits for
// it; its data stays for Start.
func (i *InfluxDB) Stop() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cmd == nil {
		return
	}
	_ = i.cmd.Process.Signal(os.Interrupt)
	select {
	case <-i.done:
	case <-time.After(10 * time.Second):
		_ = i.cmd.Process.Kill()
		<-i.done
	}
	i.cmd = nil
}

// Series is one series of an InfluxQL answer.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Query runs one InfluxQL statement against DB through /query and
// returns its series; an error answer from the server is an error.
func (i *InfluxDB) Query(q string) ([]Series, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	form := url.Values{"q": {q}, "db": {i.DB}, "epoch": {"s"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, i.URL+"/query", bytes.NewBufferString(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Series []Series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("influxd /query: status %d: %v", resp.StatusCode, err)
	}
	if out.Error != "" {
		return nil, fmt.Errorf("influxd: %s", out.Error)
	}
	var series []Series
	for _, r := range out.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("influxd: %s", r.Error)
		}
		series = append(series, r.Series...)
	}
	return series, nil
}

// Rows counts the rows of an InfluxQL answer.
func Rows(series []Series) int {
	n := 0
	for _, s := range series {
		n += len(s.Values)
	}
	return n
}

func quoteIdent(s string) string {
	b, _ := json.Marshal(s) // "..." with \" escaped, as InfluxQL wants
	return string(b)
}

func freeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
