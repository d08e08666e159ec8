package rowcodec

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/internal/point"
)

func TestFieldsJSONRoundTrip(t *testing.T) {
	cases := []struct {
		name   string
		fields map[string]any
		want   string
	}{
		{"float keeps a whole value a float", map[string]any{"a": 5.0}, `{"a":5}`},
		{"int and uint are tagged", map[string]any{"i": int64(-3), "u": uint64(math.MaxUint64)}, `{"i":{"i":-3},"u":{"u":18446744073709551615}}`},
		{"int64 extremes", map[string]any{"max": int64(math.MaxInt64), "min": int64(math.MinInt64)}, `{"max":{"i":9223372036854775807},"min":{"i":-9223372036854775808}}`},
		{"bool and string", map[string]any{"b": false, "s": "tab\there \"q\" \\"}, `{"b":false,"s":"tab\there \"q\" \\"}`},
		{"string that looks typed", map[string]any{"s": `{"i":1}`}, `{"s":"{\"i\":1}"}`},
		{"tiny and huge floats", map[string]any{"t": 5e-324, "h": 1e308, "n": -0.25}, `{"h":1e+308,"n":-0.25,"t":5e-324}`},
		{"odd keys", map[string]any{"a\"b": 1.5, "☃": true}, `{"a\"b":1.5,"☃":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Codec
			js, err := c.FieldsJSON(tc.fields)
			if err != nil {
				t.Fatal(err)
			}
			if js != tc.want {
				t.Errorf("encoded %s, want %s", js, tc.want)
			}
			if !json.Valid([]byte(js)) {
				t.Errorf("%s is not valid JSON", js)
			}
			back, err := new(Decoder).DecodeFields([]byte(js))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.fields, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFieldsJSONRejects(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(1), float32(1), []byte("x"), nil} {
		var c Codec
		if js, err := c.FieldsJSON(map[string]any{"f": v}); err == nil {
			t.Errorf("fieldsJSON(%T %v) = %s, want an error", v, v, js)
		}
	}
}

func TestDecodeFieldsRejects(t *testing.T) {
	for _, js := range []string{`{"f":null}`, `{"f":{"x":1}}`, `{"f":{"i":1,"u":1}}`, `{"f":{"i":1.5}}`, `{"f":[1]}`, `not json`} {
		if got, err := new(Decoder).DecodeFields([]byte(js)); err == nil {
			t.Errorf("decodeFields(%s) = %v, want an error", js, got)
		}
	}
}

func TestSeriesKeyAndTags(t *testing.T) {
	tags := map[string]string{"target": "gw", "site": "oak", "agent": "a1", "af": "4", "q": "a\"b\x00\xff"}
	var c Codec
	if got, want := c.SeriesKey("ping", tags), "ping,af=4,q=a\"b\x00\xff,target=gw"; got != want {
		t.Errorf("seriesKey = %q, want %q", got, want)
	}
	js := c.TagsJSON(tags)
	if !json.Valid([]byte(js)) {
		t.Fatalf("tags JSON %s is not valid", js)
	}
	back, err := new(Decoder).DecodeTags([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"target": "gw", "site": "oak", "agent": "a1", "af": "4", "q": "a\"b\x00\ufffd"}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("tags round trip (-want +got):\n%s", diff)
	}
}

// Rows this package did not write (or wrote with escapes) take the
// encoding/json path and must decode the same way.
func TestDecodeSlowPath(t *testing.T) {
	var d Decoder
	fields, err := d.DecodeFields([]byte(` { "a" : 1.5 , "i" : { "i" : -3 } , "u":{"u":4}, "s" : "caf\u00e9 \"q\"", "b" : true } `))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": 1.5, "i": int64(-3), "u": uint64(4), "s": `café "q"`, "b": true}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	tags, err := d.DecodeTags([]byte(`{ "k\u00e9" : "v\n" }`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"ké": "v\n"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	for _, js := range []string{`{"f":NaN}`, `{"f":inf}`, `{"f":0x10}`, `{"f":1,}`, `{"f":1`} {
		if got, err := d.DecodeFields([]byte(js)); err == nil {
			t.Errorf("decodeFields(%s) = %v, want an error", js, got)
		}
	}
}

func FuzzFieldsJSON(f *testing.F) {
	f.Add("k", "plain", int64(5), uint64(7), 5.0, true)
	f.Add("a\"b", "tab\t\"q\"\\ ☃", int64(math.MinInt64), uint64(math.MaxUint64), -1e-300, false)
	f.Add("", "\x00\xff", int64(0), uint64(0), 0.1, true)
	f.Fuzz(func(t *testing.T, key, s string, i int64, u uint64, fl float64, b bool) {
		if math.IsNaN(fl) || math.IsInf(fl, 0) {
			return
		}
		in := map[string]any{key + "s": s, key + "i": i, key + "u": u, key + "f": fl, key + "b": b}
		var c Codec
		js, err := c.FieldsJSON(in)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid([]byte(js)) {
			t.Fatalf("invalid JSON %s", js)
		}
		back, err := new(Decoder).DecodeFields([]byte(js))
		if err != nil {
			t.Fatalf("decode %s: %v", js, err)
		}
		want := map[string]any{}
		for k, v := range in {
			if str, ok := v.(string); ok {
				v = repairUTF8(str)
			}
			want[repairUTF8(k)] = v
		}
		if len(want) != len(in) {
			return // keys collided after repairing invalid UTF-8
		}
		if diff := cmp.Diff(want, back); diff != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", js, diff)
		}
	})
}

// repairUTF8 replaces each invalid byte with U+FFFD, as appendString does.
func repairUTF8(s string) string {
	var b []rune
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b = append(b, r)
		i += n
	}
	return string(b)
}

// Samples reads every fields column as DecodeFields does, by the fast path
// or the slow, and refuses what it refuses.
func TestSamplesMatchDecodeFields(t *testing.T) {
	cols := []string{
		`{"a":5,"b":-0.25,"c":1e+308,"d":5e-324}`,
		`{"i":{"i":-3},"max":{"i":9223372036854775807},"u":{"u":18446744073709551615}}`,
		`{"no":false,"ok":true,"s":"plain","t":"☃ snow"}`,
		`{"esc":"tab\there \"q\" \\","ok":false}`, // escapes: the slow path
		`{"a\"b":1.5,"☃":true}`,
		`{ "spaced" : 1 }`,
		`{"one":1}`,
	}
	var d Decoder
	var ss []rollup.Sample
	for _, js := range cols {
		fields, err := d.DecodeFields([]byte(js))
		if err != nil {
			t.Fatalf("DecodeFields(%s): %v", js, err)
		}
		if ss, err = d.Samples([]byte(js), ss); err != nil {
			t.Fatalf("Samples(%s): %v", js, err)
		}
		got := map[string]any{}
		for _, s := range ss {
			switch s.Kind {
			case rollup.Number:
				got[string(s.Field)] = s.Num
			case rollup.Bool:
				got[string(s.Field)] = string(s.Text) + "/" + strconv.FormatFloat(s.Num, 'g', -1, 64)
			case rollup.String:
				got[string(s.Field)] = "s:" + string(s.Text)
			}
		}
		want := map[string]any{}
		for k, v := range fields {
			switch v := v.(type) {
			case bool:
				want[k] = map[bool]string{true: "true/1", false: "false/0"}[v]
			case string:
				want[k] = "s:" + v
			default:
				want[k], _ = point.AsFloat(v)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Samples(%s) differs from DecodeFields (-want +got):\n%s", js, diff)
		}
	}
	for _, js := range []string{`{"f":null}`, `{"f":{"x":1}}`, `{"f":{"i":1.5}}`, `{"f":[1]}`, `not json`, `{"f":1e400}`} {
		if got, err := d.Samples([]byte(js), nil); err == nil {
			t.Errorf("Samples(%s) = %v, want an error", js, got)
		}
	}
}
