package point

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

func TestDecodeLenientKeepsGoodLines(t *testing.T) {
	body := "m,t=a v=1 1764844800000000000\n" + // 1
		"m v= 1764844800000000000\n" + // 2: no field value
		"\n" + // 3
		"# a comment\n" + // 4
		"m,t=b v=2i 1764844801000000000\n" + // 5
		"bad line with no fields\n" + // 6
		"m,t=d v=true\n" + // 7: no timestamp
		"m,t=c v=\"unterminated\n" // 8: a string runs to the end of the body
	got := DecodeLenient([]byte(body), lineprotocol.Nanosecond, t0, 10)
	if len(got.Points) != 3 || got.Bad != 3 || len(got.Errors) != 3 || got.Untimed != 1 {
		t.Fatalf("got %d points, %d bad, %d errors, %d untimed: %+v", len(got.Points), got.Bad, len(got.Errors), got.Untimed, got)
	}
	for i, want := range []string{"a", "b", "d"} {
		if got.Points[i].Tags["t"] != want {
			t.Errorf("point %d has t=%q, want %q", i, got.Points[i].Tags["t"], want)
		}
	}
	if !got.Points[0].Time.Equal(time.Unix(0, 1764844800000000000)) || got.Points[1].Fields["v"] != int64(2) {
		t.Errorf("first points: %+v", got.Points[:2])
	}
	if !got.Points[2].Time.Equal(t0) {
		t.Errorf("untimed point got %v, want now %v", got.Points[2].Time, t0)
	}
	var lines []int
	for _, e := range got.Errors {
		lines = append(lines, e.Line)
		if e.Err == nil || !strings.Contains(e.Error(), fmt.Sprintf("line %d:", e.Line)) {
			t.Errorf("error %+v does not explain itself", e)
		}
	}
	if fmt.Sprint(lines) != "[2 6 8]" {
		t.Errorf("bad lines %v, want [2 6 8]", lines)
	}
}

func TestDecodeLenientKeepsFewErrors(t *testing.T) {
	body := strings.Repeat("nonsense\n", 100) + "m v=1 1\n"
	got := DecodeLenient([]byte(body), lineprotocol.Nanosecond, t0, 5)
	if got.Bad != 100 || len(got.Errors) != 5 || len(got.Points) != 1 {
		t.Fatalf("got %d bad, %d errors kept, %d points", got.Bad, len(got.Errors), len(got.Points))
	}
	if got.Errors[4].Line != 5 {
		t.Errorf("fifth error on line %d", got.Errors[4].Line)
	}
}

func TestDecodeLenientPrecision(t *testing.T) {
	for _, tc := range []struct {
		prec lineprotocol.Precision
		ts   string
	}{
		{lineprotocol.Nanosecond, "1764844800123456789"},
		{lineprotocol.Microsecond, "1764844800123456"},
		{lineprotocol.Millisecond, "1764844800123"},
		{lineprotocol.Second, "1764844800"},
	} {
		got := DecodeLenient([]byte("m v=1 "+tc.ts+"\nm v=2\n"), tc.prec, t0, 5)
		if len(got.Points) != 2 || got.Bad != 0 {
			t.Fatalf("%v: %+v", tc.prec, got)
		}
		want := time.Unix(0, 1764844800123456789).Truncate(tc.prec.Duration())
		if !got.Points[0].Time.Equal(want) {
			t.Errorf("%v: time %v, want %v", tc.prec, got.Points[0].Time.UTC(), want.UTC())
		}
		if now := t0.Truncate(tc.prec.Duration()); !got.Points[1].Time.Equal(now) || got.Untimed != 1 {
			t.Errorf("%v: untimed point at %v, want %v", tc.prec, got.Points[1].Time, now)
		}
	}
	// Epoch zero is a timestamp, not a missing one.
	got := DecodeLenient([]byte("m v=1 0\n"), lineprotocol.Second, t0, 5)
	if len(got.Points) != 1 || got.Untimed != 0 || !got.Points[0].Time.Equal(time.Unix(0, 0)) {
		t.Errorf("epoch zero: %+v", got)
	}
}

// The lenient decoder agrees with the strict one on a good body.
func FuzzDecodeLenient(f *testing.F) {
	for _, s := range []string{"m a=1 1\n", "m,t=x a=1i,b=\"s\",c=t 1700000000000000000\n", "m a=\nm b=1\n", "\n\n", "m,=x a=1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := DecodeLenient(body, lineprotocol.Nanosecond, t0, 3)
		if len(got.Errors) > 3 || len(got.Errors) > got.Bad {
			t.Fatalf("%d errors kept of %d", len(got.Errors), got.Bad)
		}
		strict, err := Decode(body, lineprotocol.Nanosecond, t0)
		if err == nil && (got.Bad != 0 || len(got.Points) != len(strict)) {
			t.Fatalf("strict decoded %d points; lenient %d with %d bad", len(strict), len(got.Points), got.Bad)
		}
		if err != nil && got.Bad == 0 {
			t.Fatalf("strict refused (%v) but lenient found nothing bad", err)
		}
	})
}
