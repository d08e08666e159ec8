package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestReadBody(t *testing.T) {
	body := []byte(strings.Repeat("m a=1\n", 100))
	got, err := ReadBody(bytes.NewReader(gz(t, body)), "gzip", 1<<20)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("gzip body: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader(body), "", int64(len(body)-1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
	// The limit applies after decompression: a small compressed body that
	// inflates past the limit is refused.
	big := bytes.Repeat([]byte("m a=1\n"), 1<<16)
	if _, err := ReadBody(bytes.NewReader(gz(t, big)), "gzip", 1<<16); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge for an inflating body, got %v", err)
	}
	if _, err := ReadBody(bytes.NewReader(body), "br", 1<<20); err == nil {
		t.Fatal("unsupported encoding accepted")
	}
	if _, err := ReadBody(bytes.NewReader(body), "gzip", 1<<20); err == nil {
		t.Fatal("plain body labelled gzip accepted")
	}
}

// Readers are reused between requests: one left mid-stream by a bad or
// truncated body must not spoil the next.
func TestReadBodyReusesReadersCleanly(t *testing.T) {
	good := gz(t, []byte(strings.Repeat("m a=1\n", 200)))
	for i := 0; i < 20; i++ {
		if _, err := ReadBody(bytes.NewReader(good[:len(good)/2]), "gzip", 1<<20); err == nil {
			t.Fatal("truncated gzip body accepted")
		}
		if _, err := ReadBody(bytes.NewReader(good[:4]), "gzip", 1<<20); err == nil {
			t.Fatal("gzip header cut short accepted")
		}
		body := []byte(strings.Repeat("m b=2\n", i+1))
		got, err := ReadBody(bytes.NewReader(gz(t, body)), "gzip", 1<<20)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("round %d: got %q, %v", i, got, err)
		}
	}
}

func TestDecodeSetsSiteAndAgentFromCredential(t *testing.T) {
	a := store.Agent{ID: "agent-1", SiteID: "school-a"}
	body := []byte("ping,target=x,site=school-b,agent=evil loss_pct=0 1700000000000000000\n")
	pts, err := Decode(body, lineprotocol.Nanosecond, a, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if pts[0].Tags[store.TagSite] != "school-a" || pts[0].Tags[store.TagAgent] != "agent-1" || pts[0].Tags["target"] != "x" {
		t.Fatalf("tags not taken from the credential: %v", pts[0].Tags)
	}
}

func TestDecodeRejectsWholeBatch(t *testing.T) {
	_, err := Decode([]byte("m a=1\nm a=1\nm a=oops\n"), lineprotocol.Nanosecond, store.Agent{}, time.Now())
	var de *point.DecodeError
	if !errors.As(err, &de) || de.Line != 3 {
		t.Fatalf("want line 3 error, got %v", err)
	}
	if _, err := Decode([]byte("\n# only a comment\n"), lineprotocol.Nanosecond, store.Agent{}, time.Now()); !errors.Is(err, ErrEmpty) {
		t.Fatalf("want ErrEmpty, got %v", err)
	}
}

func TestPrecision(t *testing.T) {
	for in, want := range map[string]lineprotocol.Precision{"": lineprotocol.Nanosecond, "ms": lineprotocol.Millisecond, "s": lineprotocol.Second, "us": lineprotocol.Microsecond} {
		if got, err := Precision(in); err != nil || got != want {
			t.Errorf("Precision(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := Precision("h"); err == nil {
		t.Error("precision h accepted")
	}
}
