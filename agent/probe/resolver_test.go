package probe

import "testing"

var resolverCases = []struct {
	in, want string
	ok       bool
}{
	{"127.0.0.1:53", "127.0.0.1:53", true},
	{"127.0.0.1", "127.0.0.1:53", true},
	{"::1", "[::1]:53", true},
	{"[::1]:5353", "[::1]:5353", true},
	{"10.0.0.1:053", "10.0.0.1:53", true},
	{"dns.example:53", "", false},
	{"127.0.0.1:0", "", false},
	{"127.0.0.1:70000", "", false},
	{"127.0.0.1:", "", false},
	{"", "", false},
	{"[::1]", "", false},
}

func TestNormalizeResolver(t *testing.T) {
	for _, tc := range resolverCases {
		got, err := NormalizeResolver(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("NormalizeResolver(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzNormalizeResolver(f *testing.F) {
	for _, tc := range resolverCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeResolver(s)
		if err != nil {
			return
		}
		// Normal forms are fixed points.
		if again, err := NormalizeResolver(n); err != nil || again != n {
			t.Errorf("NormalizeResolver(%q) = %q, but that normalises to %q, %v", s, n, again, err)
		}
	})
}
