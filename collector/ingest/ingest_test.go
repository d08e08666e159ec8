package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
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
	rows, err := Decode(body, lineprotocol.Nanosecond, a, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pts, err := new(rowcodec.Decoder).Points(rows)
	if err != nil {
		t.Fatal(err)
	}
	if pts[0].Tags[store.TagSite] != "school-a" || pts[0].Tags[store.TagAgent] != "agent-1" || pts[0].Tags["target"] != "x" {
		t.Fatalf("tags not taken from the credential: %v", pts[0].Tags)
	}
	if got := string(rows.SeriesKey(0)); got != "ping,target=x" {
		t.Errorf("series key %q, want the site and agent left out", got)
	}
}

// Decoding straight into rows must give the bytes that decoding into
// points and encoding them with rowcodec.Codec gives, or a store would
// file the same series under two keys.
func TestDecodeMatchesPointsEncoded(t *testing.T) {
	a := store.Agent{ID: "agent-1", SiteID: "school-a"}
	now := time.Unix(1_700_000_000, 0)
	bodies := []string{
		"ping,target=a.example loss_pct=0,rtt_avg_ms=12.5,sent=10i,up=true 1700000000000000000\n",
		// Unsorted tags and fields, the body's own site and agent, and
		// repeated keys (the last wins, as in a map).
		"snmp,if=ge-0/0/1,device=sw1,site=other,agent=x in_octets=12u,err=\"a \\\"q\\\" \\\\ b\",in_octets=13u 1700000000000000001\n",
		"m,b=2,a=1,b=3 z=1,a=2,z=-0.25 1700000000000000002\n",
		// Numbers copied as they are, and those that must be parsed.
		"n a=1.50,b=-0,c=0.000001,d=123456789012345.5,e=1234567890123456.5,f=1.,g=.5,h=007,i=1E3 1\n",
		"n a=0i,b=-0i,c=123456789012345678i,d=1234567890123456789i,e=-9223372036854775808i,f=18446744073709551615u,g=0u,h=1234567890123456789u 1\n",
		// Escapes, non-ASCII, control characters in strings, no time.
		"dns,server=1.1.1.1,name=caf\u00e9\\,\\ bar ok=false,msg=\"tab\there\\nline ☃\"\n",
		"http,url=https://x.example/?a\\=b code=200i,t=1e-7,big=1.7976931348623157e308,neg=-9223372036854775808i\n",
		strings.Repeat("host cpu_pct=3.25,mem_pct=41 1700000000000000003\n", 3),
	}
	var c rowcodec.Codec
	for _, body := range bodies {
		rows, err := Decode([]byte(body), lineprotocol.Nanosecond, a, now)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		pts, err := point.Decode([]byte(body), lineprotocol.Nanosecond, now)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if len(pts) != len(rows.Rows) {
			t.Fatalf("%q: %d rows, %d points", body, len(rows.Rows), len(pts))
		}
		for i, p := range pts {
			p.Tags[store.TagSite], p.Tags[store.TagAgent] = a.SiteID, a.ID
			// Fields need only read back the same: a number may keep the
			// body's spelling (1.50 rather than 1.5).
			back, err := new(rowcodec.Decoder).DecodeFields(rows.FieldsJSON(i))
			if err != nil {
				t.Fatalf("%q line %d: %s: %v", body, i+1, rows.FieldsJSON(i), err)
			}
			if diff := cmp.Diff(p.Fields, back); diff != "" {
				t.Errorf("%q line %d fields (-want +got):\n%s", body, i+1, diff)
			}
			r := rows.Rows[i]
			for _, x := range []struct{ what, got, want string }{
				{"measurement", r.Measurement, p.Measurement},
				{"time", time.Unix(0, r.NS).String(), p.Time.String()},
				{"series key", string(rows.SeriesKey(i)), c.SeriesKey(p.Measurement, p.Tags)},
				{"tags", string(rows.TagsJSON(i)), c.TagsJSON(p.Tags)},
			} {
				if x.got != x.want {
					t.Errorf("%q line %d %s:\n got %s\nwant %s", body, i+1, x.what, x.got, x.want)
				}
			}
		}
	}
}

// A body refused whole names the line point.Decode names, for each check.
func TestDecodeRefusesAsPointDecode(t *testing.T) {
	for _, body := range []string{
		"m a=1\nm a=NaN\n", "m a=1\nm a=+Inf\n", "m,=x a=1\n", "m =1\n", "m a=1\n,t=1 a=1\n",
		"m\n", "m a=1 notatime\n", "m a=1.5.5\n", "m a=-i\n", "m a=-5u\n", "m a=18446744073709551616u\n", "m a=99999999999999999999i\n", "m a=1\nm a=1e999\n",
	} {
		_, perr := point.Decode([]byte(body), lineprotocol.Nanosecond, time.Unix(1, 0))
		_, err := Decode([]byte(body), lineprotocol.Nanosecond, store.Agent{ID: "a", SiteID: "s"}, time.Unix(1, 0))
		var pde, de *point.DecodeError
		if !errors.As(perr, &pde) || !errors.As(err, &de) {
			t.Errorf("%q: want decode errors from both, got %v and %v", body, perr, err)
			continue
		}
		if de.Line != pde.Line || !errors.Is(err, point.ErrInvalid) != !errors.Is(perr, point.ErrInvalid) {
			t.Errorf("%q: got %v, point.Decode says %v", body, err, perr)
		}
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
