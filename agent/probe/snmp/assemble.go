package snmp

import (
	"sort"
	"strconv"
	"strings"

	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/agent/snmp/profile"
)

// walked holds column walks: normalised column OID (leading dot) → index
// suffix (no leading dot) → value.
type walked map[string]map[string]snmp.Value

// rateFunc turns one counter instance into a per-second rate; ok is false
// on the first sample and after a wrap it cannot explain or a reboot.
type rateFunc func(instance string, v snmp.Value) (rate float64, ok bool)

// row is one point-to-be: the tags and fields of one table row or of a
// read's scalars.
type row struct {
	tags   map[string]string
	fields map[string]any
}

// norm gives an OID the leading dot the client layer uses in its answers.
func norm(oid string) string { return "." + strings.TrimPrefix(oid, ".") }

// scalarRow builds the one row of a scalars read from GET answers keyed by
// normalised instance OID.
func scalarRow(r profile.Read, got map[string]snmp.Value, rate rateFunc) (row, int) {
	out := row{tags: map[string]string{}, fields: map[string]any{}}
	bad := 0
	for _, c := range r.Scalars {
		v, ok := got[norm(c.OID)]
		if !ok || v.Missing() || v.Kind == snmp.KindNull {
			continue
		}
		val, st := convert(c.EffectiveType(), c.Enum, c.True, profile.ScaleOr1(c.Scale), norm(c.OID), v, rate)
		if st != converted {
			bad += st.badCount()
			continue
		}
		put(out, c.Output, val)
	}
	return out, bad
}

func put(r row, output func() (string, bool), val any) {
	name, tag := output()
	if tag {
		r.tags[name] = toText(val)
	} else {
		r.fields[name] = val
	}
}

func toText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// tableRows builds the rows of a table read: one per index found in any of
// its columns (or their fallbacks), filtered, with lookups resolved, then
// aggregated by tag set and derived.
func tableRows(r profile.Read, data walked, rate rateFunc) ([]row, int) {
	t := r.Table
	bad := 0
	suffixes := map[string]bool{}
	for _, c := range t.Columns {
		for s := range data[norm(c.OID)] {
			suffixes[s] = true
		}
		if c.Fallback != nil {
			for s := range data[norm(c.Fallback.OID)] {
				suffixes[s] = true
			}
		}
	}
	order := make([]string, 0, len(suffixes))
	for s := range suffixes {
		order = append(order, s)
	}
	sort.Slice(order, func(i, j int) bool { return lessOID(order[i], order[j]) })

	var rows []row
	for _, suffix := range order {
		arcs, ok := profile.ParseOID("0." + suffix) // ParseOID wants two arcs at least
		if !ok {
			bad++
			continue
		}
		text, subids, err := t.SplitIndex(arcs[1:])
		if err != nil {
			bad++
			continue
		}
		if !keep(t.Filters, data, suffix) {
			continue
		}
		out := row{tags: map[string]string{}, fields: map[string]any{}}
		for i, ip := range t.Index {
			if ip.Tag != "" {
				out.tags[ip.Tag] = text[i]
			}
		}
		for _, c := range t.Columns {
			oid, scale := norm(c.OID), profile.ScaleOr1(c.Scale)
			v, ok := data[oid][suffix]
			if (!ok || v.Missing()) && c.Fallback != nil {
				oid, scale = norm(c.Fallback.OID), profile.ScaleOr1(c.Fallback.Scale)
				v, ok = data[oid][suffix]
			}
			if !ok || v.Missing() || v.Kind == snmp.KindNull {
				continue
			}
			val, st := convert(c.EffectiveType(), c.Enum, c.True, scale, oid+"."+suffix, v, rate)
			if st != converted {
				bad += st.badCount()
				continue
			}
			put(out, c.Output, val)
		}
		for _, l := range t.Lookups {
			key, ok := lookupKey(t, l.Key, subids, data, suffix)
			if !ok {
				continue
			}
			v, ok := data[norm(l.OID)][key]
			if !ok || v.Missing() || v.Kind == snmp.KindNull {
				continue
			}
			val, st := convert(l.EffectiveType(), l.Enum, l.True, 1, norm(l.OID)+"."+key, v, rate)
			if st != converted {
				bad += st.badCount()
				continue
			}
			put(out, func() (string, bool) {
				if l.Tag != "" {
					return l.Tag, true
				}
				return l.Field, false
			}, val)
		}
		rows = append(rows, out)
	}
	rows = aggregate(t, rows)
	for _, rw := range rows {
		derive(t.Derive, rw)
	}
	return rows, bad
}

// lookupKey is the instance suffix a lookup reads: an index part's
// sub-identifiers, or a column's integer value in this row.
func lookupKey(t *profile.Table, key string, subids [][]uint32, data walked, suffix string) (string, bool) {
	for i, ip := range t.Index {
		if ip.Name == key {
			parts := make([]string, len(subids[i]))
			for j, s := range subids[i] {
				parts[j] = strconv.FormatUint(uint64(s), 10)
			}
			return strings.Join(parts, "."), true
		}
	}
	for _, c := range t.Columns {
		if c.Name == key {
			v, ok := data[norm(c.OID)][suffix]
			if !ok {
				return "", false
			}
			n, ok := v.Int64()
			if !ok || n < 0 {
				return "", false
			}
			return strconv.FormatInt(n, 10), true
		}
	}
	return "", false
}

// keep applies a table's filters to one row: a row without the filtered
// value is kept only by not_in filters.
func keep(filters []profile.Filter, data walked, suffix string) bool {
	for _, f := range filters {
		v, ok := data[norm(f.OID)][suffix]
		s := strings.TrimPrefix(v.String(), ".")
		if !ok || v.Missing() {
			if len(f.In) > 0 {
				return false
			}
			continue
		}
		if len(f.In) > 0 && !containsOID(f.In, s) {
			return false
		}
		if containsOID(f.NotIn, s) {
			return false
		}
	}
	return true
}

func containsOID(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimPrefix(x, ".") == s {
			return true
		}
	}
	return false
}

// status says what became of one value.
type status int

const (
	converted status = iota
	noRate           // a counter's first sample, or one after a reboot
	malformed        // the value does not fit the column's type
)

func (s status) badCount() int {
	if s == malformed {
		return 1
	}
	return 0
}

// convert turns one value into what its column type says.
func convert(typ string, enum map[int]string, trueVals []int, scale float64, instance string, v snmp.Value, rate rateFunc) (any, status) {
	switch typ {
	case profile.TypeGauge:
		n, ok := v.Number()
		if !ok {
			return nil, malformed
		}
		return n * scale, converted
	case profile.TypeCounter:
		if _, _, ok := v.Counter(); !ok {
			return nil, malformed
		}
		r, ok := rate(instance, v)
		if !ok {
			return nil, noRate
		}
		return r * scale, converted
	case profile.TypeString:
		if v.Kind == snmp.KindOctetString || v.Kind == snmp.KindIPAddress || v.Kind == snmp.KindOID {
			return v.String(), converted
		}
		if _, ok := v.Number(); ok {
			return v.String(), converted
		}
		return nil, malformed
	case profile.TypeEnum:
		n, ok := v.Int64()
		if !ok {
			return nil, malformed
		}
		if name, ok := enum[int(n)]; ok {
			return name, converted
		}
		return strconv.FormatInt(n, 10), converted
	case profile.TypeBool:
		n, ok := v.Int64()
		if !ok {
			return nil, malformed
		}
		for _, t := range trueVals {
			if int64(t) == n {
				return true, converted
			}
		}
		return false, converted
	case profile.TypeTimeticks:
		n, ok := v.Int64()
		if !ok || n < 0 {
			return nil, malformed
		}
		return n / 100, converted
	case profile.TypeBits:
		if v.Kind != snmp.KindOctetString {
			return nil, malformed
		}
		var names []string
		for bit := 0; bit < 8*len(v.Bytes); bit++ {
			if v.Bytes[bit/8]&(0x80>>(bit%8)) == 0 {
				continue
			}
			if name, ok := enum[bit]; ok {
				names = append(names, name)
			} else {
				names = append(names, strconv.Itoa(bit))
			}
		}
		return strings.Join(names, ","), converted
	case profile.TypeMAC:
		if v.Kind != snmp.KindOctetString || len(v.Bytes) != 6 {
			return nil, malformed
		}
		parts := make([]string, 6)
		for i, b := range v.Bytes {
			parts[i] = strconv.FormatUint(uint64(b)|0x100, 16)[1:]
		}
		return strings.Join(parts, ":"), converted
	case profile.TypeOID:
		if v.Kind != snmp.KindOID {
			return nil, malformed
		}
		return strings.TrimPrefix(v.Text, "."), converted
	}
	return nil, malformed
}

// aggregate combines rows that share their tags: fields with an aggregate
// are summed, averaged, or reduced to min or max (a bool summed counts the
// rows where it is true); other fields keep the first row's value.
func aggregate(t *profile.Table, rows []row) []row {
	aggs := map[string]string{}
	for _, c := range t.Columns {
		if c.Aggregate != "" && c.Field != "" {
			aggs[c.Field] = c.Aggregate
		}
	}
	type group struct {
		out  row
		vals map[string][]any
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, r := range rows {
		k := tagKey(r.tags)
		g := byKey[k]
		if g == nil {
			g = &group{out: row{tags: r.tags, fields: map[string]any{}}, vals: map[string][]any{}}
			byKey[k] = g
			groups = append(groups, g)
		}
		for f, v := range r.fields {
			if _, ok := aggs[f]; ok {
				g.vals[f] = append(g.vals[f], v)
			} else if _, seen := g.out.fields[f]; !seen {
				g.out.fields[f] = v
			}
		}
	}
	out := make([]row, 0, len(groups))
	for _, g := range groups {
		for f, vals := range g.vals {
			g.out.fields[f] = reduce(aggs[f], vals)
		}
		out = append(out, g.out)
	}
	return out
}

func reduce(agg string, vals []any) any {
	if _, isBool := vals[0].(bool); isBool {
		var n int64
		for _, v := range vals {
			if b, _ := v.(bool); b {
				n++
			}
		}
		return n
	}
	var acc float64
	for i, v := range vals {
		x, _ := number(v)
		switch {
		case i == 0:
			acc = x
		case agg == "min":
			acc = min(acc, x)
		case agg == "max":
			acc = max(acc, x)
		default:
			acc += x
		}
	}
	if agg == "avg" {
		acc /= float64(len(vals))
	}
	return acc
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// derive adds a / b × scale for each ratio whose operands the row has.
func derive(ds []profile.Derive, r row) {
	for _, d := range ds {
		if len(d.Ratio) != 2 {
			continue
		}
		a, okA := number(r.fields[d.Ratio[0]])
		b, okB := number(r.fields[d.Ratio[1]])
		if !okA || !okB || b == 0 {
			continue
		}
		r.fields[d.Field] = a / b * profile.ScaleOr1(d.Scale)
	}
}

// tagKey is a stable key of a tag set.
func tagKey(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
		b.WriteByte(0)
	}
	return b.String()
}

func lessOID(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.ParseUint(pa[i], 10, 64)
		y, _ := strconv.ParseUint(pb[i], 10, 64)
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}
