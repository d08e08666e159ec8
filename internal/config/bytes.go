package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Bytes is a size written either as a number of bytes or with a unit
// (512KiB, 64MiB, 1GiB, 10MB).
type Bytes int64

var units = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// ParseBytes parses "64MiB", "10MB", "4096".
func ParseBytes(s string) (Bytes, error) {
	s = strings.TrimSpace(s)
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || f < 0 {
				break
			}
			return Bytes(f * float64(u.mult)), nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size (like 64MiB or 1048576): %q", s)
	}
	return Bytes(n), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (env, flags and YAML).
func (b *Bytes) UnmarshalText(text []byte) error {
	v, err := ParseBytes(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText writes the size as UnmarshalText reads it, so JSON round-trips.
func (b Bytes) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// MarshalYAML writes the size with the largest binary unit that divides it.
func (b Bytes) MarshalYAML() (any, error) { return b.String(), nil }

func (b Bytes) String() string {
	for i := 3; i >= 0; i-- {
		u := units[i]
		if int64(b) >= u.mult && int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}
