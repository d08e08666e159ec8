package point

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := []Point{
		New("ping", map[string]string{"target": "10.0.0.1", "role": "gateway"}, map[string]any{
			"sent": int64(10), "received": int64(9), "loss_pct": 10.0, "ok": true, "result": "ok",
		}, t0),
		New("dns", map[string]string{"qname": "www.google.com", "resolver": "127.0.0.1:53"}, map[string]any{
			"answer": "forcesafesearch.google.com,216.239.38.120", "count": uint64(2), "note": `quote " and, comma = equals`,
		}, t0.Add(time.Second)),
		New("host", map[string]string{"host": "pi with space"}, map[string]any{"cpu_pct": 1.5}, t0),
	}
	body, err := Encode(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(body, lineprotocol.Nanosecond, time.Now())
	if err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatalf("round trip differs (-in +out):\n%s\nbody:\n%s", diff, body)
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	bad := []Point{
		{Measurement: "", Fields: map[string]any{"a": 1.0}, Time: t0},
		{Measurement: "m", Fields: map[string]any{}, Time: t0},
		{Measurement: "m", Fields: map[string]any{"a": math.NaN()}, Time: t0},
		{Measurement: "m", Fields: map[string]any{"a": []int{1}}, Time: t0},
		{Measurement: "m", Fields: map[string]any{"a": 1.0}},
	}
	for i, p := range bad {
		if _, err := Encode(nil, []Point{p}); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: want ErrInvalid, got %v", i, err)
		}
	}
}

func TestDecodeNamesFirstBadLine(t *testing.T) {
	f := func(body string, line int) {
		t.Helper()
		_, err := Decode([]byte(body), lineprotocol.Nanosecond, t0)
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("%q: want *DecodeError, got %v", body, err)
		}
		if de.Line != line {
			t.Fatalf("%q: line %d, want %d (%v)", body, de.Line, line, err)
		}
	}
	f("m a=1 1\nm b= 2\n", 2)
	f("m a=1\n\n# comment\nm,t=x\n", 4)
	f("m a=1i\nm a=1\nm a=\"unterminated\n", 3)
	f("bad line with no fields\n", 1)
	// What Validate refuses, refused while decoding too.
	f("m a=1\nm a=NaN 1\n", 2)
	f("m a=+Inf 1\n", 1)
	f("m,=x a=1 1\n", 1)
	f("m =1 1\n", 1)
	if _, err := Decode([]byte("m a=1\n"), lineprotocol.Nanosecond, time.Time{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a line without a time and no default: %v, want ErrInvalid", err)
	}
}

func TestDecodeDefaultsTime(t *testing.T) {
	pts, err := Decode([]byte("m a=1\n"), lineprotocol.Nanosecond, t0)
	if err != nil || len(pts) != 1 || !pts[0].Time.Equal(t0) {
		t.Fatalf("got %v %v", pts, err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"m a=1 1\n", "m,t=x a=1i,b=\"s\",c=t 1700000000000000000\n", "m a=\n", "\n\n", "m,=x a=1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pts, err := Decode(body, lineprotocol.Nanosecond, t0)
		if err != nil {
			return
		}
		// Whatever decodes must encode again and decode to the same points.
		enc, err := Encode(nil, pts)
		if err != nil {
			t.Fatalf("decoded points do not encode: %v", err)
		}
		again, err := Decode(enc, lineprotocol.Nanosecond, t0)
		if err != nil {
			t.Fatalf("re-encoded body does not decode: %v\n%q", err, enc)
		}
		if len(again) != len(pts) {
			t.Fatalf("%d points became %d", len(pts), len(again))
		}
	})
}
