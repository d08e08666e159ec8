package profile

import (
	"regexp"
	"strconv"
	"strings"
)

// Profile says what to read from one kind of device. The YAML shape is in
// README.md; the yaml tags here are that shape.
type Profile struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Vendor      string   `yaml:"vendor"`  // for end-of-support lookups; "" for generic
	Match       []Rule   `yaml:"match"`   // none: used only as a fallback or when named in config
	Extends     []string `yaml:"extends"` // profiles whose reads come first
	Reads       []Read   `yaml:"reads"`

	// File is where the profile came from ("profiles/generic.yaml" or a
	// path in the override folder), for messages.
	File string `yaml:"-"`
}

// Rule matches a device: its sysObjectID starts with SysObjectID (whole
// arcs), and its sysDescr matches SysDescr when that is set.
type Rule struct {
	SysObjectID string `yaml:"sys_object_id"`
	SysDescr    string `yaml:"sys_descr"` // a Go regexp

	re *regexp.Regexp
}

// Read feeds one measurement from scalars or from one table.
type Read struct {
	Name        string   `yaml:"name"` // unique in the resolved profile; a child's read replaces its parent's of the same name
	Measurement string   `yaml:"measurement"`
	Comment     string   `yaml:"comment"`
	Scalars     []Column `yaml:"scalars"`
	Table       *Table   `yaml:"table"`
}

// Table is a conceptual table walked column by column.
type Table struct {
	OID  string `yaml:"oid"`  // the entry OID (xxxEntry)
	Name string `yaml:"name"` // the entry's MIB name
	// Augments lists other entries with the same index (ifXEntry next to
	// ifEntry); every column lies under OID or one of these.
	Augments []Entry     `yaml:"augments"`
	Index    []IndexPart `yaml:"index"`
	Columns  []Column    `yaml:"columns"`
	Lookups  []Lookup    `yaml:"lookups"`
	Filters  []Filter    `yaml:"filter"`
	Derive   []Derive    `yaml:"derive"`
}

// Entry names another table entry.
type Entry struct {
	OID  string `yaml:"oid"`
	Name string `yaml:"name"`
}

// IndexPart is one component of a table's index.
type IndexPart struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // integer (default), mac, ipv4, string, implied
	Tag  string `yaml:"tag"`  // when set, the component becomes this tag
}

// Column is a scalar or a table column and what it becomes. Exactly one of
// Field and Tag is set.
type Column struct {
	OID   string `yaml:"oid"`
	Name  string `yaml:"name"` // the MIB object name, for people and for lookup keys
	Field string `yaml:"field"`
	Tag   string `yaml:"tag"`
	Type  string `yaml:"type"` // see the Type* constants
	// Scale multiplies the value (for counters: the per-second rate).
	// 0 in YAML means "not set", read as 1 by ScaleOr1.
	Scale float64        `yaml:"scale"`
	Enum  map[int]string `yaml:"enum"` // enum: value → name; bits: bit number → name
	True  []int          `yaml:"true"` // bool: the values that mean true
	// Label marks a slowly changing value (ifName, ifAlias, entPhysical*):
	// read when the device is first seen and then rarely.
	Label bool `yaml:"label"`
	// Aggregate says how rows that end with the same tags are combined:
	// sum, avg, min or max. Required when a table has no tags at all.
	Aggregate string    `yaml:"aggregate"`
	Fallback  *Fallback `yaml:"fallback"`
}

// Fallback is read for a row whose primary column is missing (ifInOctets
// when ifHCInOctets is not implemented). It has the column's type.
type Fallback struct {
	OID   string  `yaml:"oid"`
	Name  string  `yaml:"name"`
	Scale float64 `yaml:"scale"`
}

// Lookup joins another table: the value at OID.<key> becomes a field or
// tag of the row, where key is an index component or the value of a column.
type Lookup struct {
	OID   string         `yaml:"oid"`
	Name  string         `yaml:"name"`
	Key   string         `yaml:"key"` // an index part name or a column's name
	Field string         `yaml:"field"`
	Tag   string         `yaml:"tag"`
	Type  string         `yaml:"type"`
	Enum  map[int]string `yaml:"enum"`
	True  []int          `yaml:"true"`
	Label bool           `yaml:"label"`
}

// Filter keeps only rows whose value at OID (same index) is, or is not,
// one of the listed values, written as the value prints: 6, or
// 1.3.6.1.2.1.25.2.1.2 for an OID.
type Filter struct {
	OID   string   `yaml:"oid"`
	Name  string   `yaml:"name"`
	In    []string `yaml:"in"`
	NotIn []string `yaml:"not_in"`
}

// Derive computes Field = Ratio[0] / Ratio[1] × Scale from two fields of
// the same row, after aggregation (mem_pct from used and size).
type Derive struct {
	Field string   `yaml:"field"`
	Ratio []string `yaml:"ratio"`
	Scale float64  `yaml:"scale"`
}

// Value types.
const (
	TypeGauge     = "gauge"     // a number as it is (Integer, Gauge32, Unsigned32)
	TypeCounter   = "counter"   // Counter32/Counter64: the poller emits the per-second rate
	TypeString    = "string"    // text
	TypeEnum      = "enum"      // an integer named by Enum
	TypeBool      = "bool"      // true when the integer is in True
	TypeTimeticks = "timeticks" // hundredths of a second, emitted as seconds
	TypeBits      = "bits"      // a BITS octet string; the names in Enum of the bits set
	TypeMAC       = "mac"       // octets printed aa:bb:cc:dd:ee:ff
	TypeOID       = "oid"       // an OBJECT IDENTIFIER, dotted
)

var types = map[string]bool{TypeGauge: true, TypeCounter: true, TypeString: true, TypeEnum: true, TypeBool: true,
	TypeTimeticks: true, TypeBits: true, TypeMAC: true, TypeOID: true}

// numeric types may be scaled and aggregated.
var numeric = map[string]bool{TypeGauge: true, TypeCounter: true, TypeBool: true, TypeTimeticks: true}

// Index part types.
const (
	IndexInteger = "integer" // one sub-identifier
	IndexMAC     = "mac"     // six sub-identifiers (MacAddress, fixed length)
	IndexIPv4    = "ipv4"    // four sub-identifiers
	IndexString  = "string"  // length-prefixed octets
	IndexImplied = "implied" // every remaining sub-identifier (IMPLIED, last only)
)

var indexTypes = map[string]bool{IndexInteger: true, IndexMAC: true, IndexIPv4: true, IndexString: true, IndexImplied: true}

// Aggregations.
var aggregates = map[string]bool{"sum": true, "avg": true, "min": true, "max": true}

// Measurements are the measurements a profile may feed; the fields of the
// first four are in ARCHITECTURE.md, all of them in README.md.
var Measurements = map[string]string{
	"snmp_device":   "one point per device: system group, cpu, memory, temperature",
	"snmp_if":       "one point per interface",
	"snmp_poe":      "one point per PoE power source group (PSE)",
	"snmp_poe_port": "one point per PoE port",
	"wifi_ap":       "one point per access point and per radio",
	"snmp_entity":   "inventory: chassis, modules, power supplies, fans (ENTITY-MIB)",
	"snmp_psu":      "one point per power supply",
	"snmp_ups":      "one point per UPS (UPS-MIB)",
	"snmp_lldp":     "one point per LLDP neighbour",
	"snmp_stp":      "spanning tree state of the device",
	"snmp_vrrp":     "one point per VRRP virtual router",
}

// ScaleOr1 returns s, or 1 when s is not set.
func ScaleOr1(s float64) float64 {
	if s == 0 {
		return 1
	}
	return s
}

// Output returns the name the column writes and whether it is a tag.
func (c Column) Output() (name string, tag bool) {
	if c.Tag != "" {
		return c.Tag, true
	}
	return c.Field, false
}

// EffectiveType is the column's type, with string as the default for tags.
func (c Column) EffectiveType() string {
	if c.Type == "" && c.Tag != "" {
		return TypeString
	}
	return c.Type
}

// EffectiveType is the lookup's type, with string as the default for tags.
func (l Lookup) EffectiveType() string {
	if l.Type == "" && l.Tag != "" {
		return TypeString
	}
	return l.Type
}

// Type of the index part, integer by default.
func (ip IndexPart) EffectiveType() string {
	if ip.Type == "" {
		return IndexInteger
	}
	return ip.Type
}

// OIDs returns every OID the read needs, columns and scalars first, then
// lookups and filters; fallbacks are not included.
func (r Read) OIDs() []string {
	var out []string
	for _, c := range r.Scalars {
		out = append(out, c.OID)
	}
	if t := r.Table; t != nil {
		for _, c := range t.Columns {
			out = append(out, c.OID)
		}
		for _, l := range t.Lookups {
			out = append(out, l.OID)
		}
		for _, f := range t.Filters {
			out = append(out, f.OID)
		}
	}
	return out
}

// ParseOID parses a dotted numeric OID ("1.3.6.1.2.1.1.3.0"; a leading dot
// is allowed) into its arcs.
func ParseOID(s string) ([]uint32, bool) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, false
	}
	out := make([]uint32, len(parts))
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return nil, false
		}
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, false
		}
		out[i] = uint32(v)
	}
	return out, out[0] <= 2
}

// HasPrefix reports whether oid equals prefix or lies under it, by whole
// arcs (1.3.6.1.4.1.9.1 is not a prefix of 1.3.6.1.4.1.9.10).
func HasPrefix(oid, prefix string) bool {
	oid, prefix = strings.TrimPrefix(oid, "."), strings.TrimPrefix(prefix, ".")
	return oid == prefix || strings.HasPrefix(oid, prefix+".")
}
