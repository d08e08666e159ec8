package rollup

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDistRoundTrip(t *testing.T) {
	binned := histOf([]float64{-3, -0.5, 0, 1e-12, 0.25, 7, 7, 1e9, 42}, 0)
	exact := histOf([]float64{1.5, -2, 1.5, 99}, MaxExact)
	for name, b := range map[string]Bucket{
		"bins":          {Kind: Number, Hist: binned},
		"exact":         {Kind: Number, Hist: exact},
		"empty numbers": {Kind: Number, Hist: &Hist{}},
		"values":        {Kind: String, Values: map[string]int64{"NOERROR": 3, "NXDOMAIN": 1, "": 2, "é,x": 1}, Other: 9},
		"bools":         {Kind: Bool, Values: map[string]int64{"true": 5}},
	} {
		enc := AppendDist([]byte("prefix"), &b)
		got := Bucket{Kind: b.Kind}
		if err := DecodeDist(&got, enc[len("prefix"):]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(b, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestDistRejects(t *testing.T) {
	for name, c := range map[string]struct {
		kind Kind
		data []byte
	}{
		"empty":              {Number, nil},
		"unknown tag":        {Number, []byte{'x'}},
		"values for numbers": {Number, []byte{'v', 0, 0}},
		"bins for strings":   {String, []byte{'b', 0, 0, 0}},
		"zero count":         {Number, append([]byte{'e', 1}, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0)},
		"trailing":           {Number, []byte{'e', 0, 1}},
		"length past end":    {String, []byte{'v', 0, 200}},
		"keys out of order":  {String, []byte{'v', 0, 2, 1, 'b', 1, 1, 'a', 1}},
		"bins out of order":  {Number, []byte{'b', 0, 0, 2, 4, 1, 0, 1}},
		"truncated value":    {Number, []byte{'e', 1, 0, 0}},
		"NaN":                {Number, append([]byte{'e', 1}, 1, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1)},
	} {
		b := Bucket{Kind: c.kind}
		if err := DecodeDist(&b, c.data); !errors.Is(err, errDist) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func FuzzDecodeDist(f *testing.F) {
	f.Add(byte(Number), AppendDist(nil, &Bucket{Kind: Number, Hist: histOf([]float64{1, 2, math.Pi}, 0)}))
	f.Add(byte(Number), AppendDist(nil, &Bucket{Kind: Number, Hist: histOf([]float64{1, 2, math.Pi}, MaxExact)}))
	f.Add(byte(String), AppendDist(nil, &Bucket{Kind: String, Values: map[string]int64{"a": 1, "b": 2}, Other: 1}))
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		k := Number
		if kind%2 == 1 {
			k = String
		}
		b := Bucket{Kind: k}
		if err := DecodeDist(&b, data); err != nil {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		again := Bucket{Kind: k}
		if err := DecodeDist(&again, AppendDist(nil, &b)); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if diff := cmp.Diff(b, again); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}
	})
}
