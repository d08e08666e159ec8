package profile

import (
	"fmt"
	"strconv"
	"strings"
)

// SplitIndex splits the sub-identifiers after a column's OID into the
// table's index parts, each rendered as text: an integer in decimal, a MAC
// as aa:bb:cc:dd:ee:ff, an IPv4 address dotted, a string as its octets,
// an implied part as its dotted sub-identifiers. It also returns, per
// part, the sub-identifiers it used, which is the key a lookup appends to
// its OID.
func (t *Table) SplitIndex(suffix []uint32) (text []string, subids [][]uint32, err error) {
	rest := suffix
	take := func(n int, what string) ([]uint32, error) {
		if len(rest) < n {
			return nil, fmt.Errorf("index %v: too short for %s", suffix, what)
		}
		v := rest[:n]
		rest = rest[n:]
		return v, nil
	}
	for _, ip := range t.Index {
		var v []uint32
		var s string
		switch ip.EffectiveType() {
		case IndexInteger:
			if v, err = take(1, ip.Name); err == nil {
				s = strconv.FormatUint(uint64(v[0]), 10)
			}
		case IndexMAC:
			if v, err = take(6, ip.Name); err == nil {
				b := make([]string, 6)
				for i, o := range v {
					if o > 255 {
						return nil, nil, fmt.Errorf("index %v: %s: %d is not an octet", suffix, ip.Name, o)
					}
					b[i] = fmt.Sprintf("%02x", o)
				}
				s = strings.Join(b, ":")
			}
		case IndexIPv4:
			if v, err = take(4, ip.Name); err == nil {
				s = fmt.Sprintf("%d.%d.%d.%d", v[0], v[1], v[2], v[3])
			}
		case IndexString:
			var n []uint32
			if n, err = take(1, ip.Name); err == nil {
				var octets []uint32
				if octets, err = take(int(n[0]), ip.Name); err == nil {
					v = append(n, octets...)
					b := make([]byte, len(octets))
					for i, o := range octets {
						b[i] = byte(o)
					}
					s = string(b)
				}
			}
		case IndexImplied:
			v, rest = rest, nil
			parts := make([]string, len(v))
			for i, o := range v {
				parts[i] = strconv.FormatUint(uint64(o), 10)
			}
			s = strings.Join(parts, ".")
		}
		if err != nil {
			return nil, nil, err
		}
		text = append(text, s)
		subids = append(subids, v)
	}
	if len(rest) > 0 {
		return nil, nil, fmt.Errorf("index %v: %d sub-identifiers left over", suffix, len(rest))
	}
	return text, subids, nil
}
