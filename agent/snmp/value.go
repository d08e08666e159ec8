package snmp

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// Kind is the SNMP type of a Value.
type Kind uint8

// Kinds of values. The three "missing" kinds are exceptions an agent puts
// in place of a value; they are not errors.
const (
	KindInvalid Kind = iota
	KindNull
	KindInteger
	KindUnsigned // Unsigned32 / UInteger32
	KindCounter32
	KindCounter64
	KindGauge32
	KindTimeTicks
	KindOctetString
	KindOID
	KindIPAddress
	KindNoSuchObject
	KindNoSuchInstance
	KindEndOfMIBView
)

var kindNames = [...]string{"invalid", "null", "integer", "unsigned", "counter32", "counter64", "gauge32",
	"timeticks", "octetstring", "oid", "ipaddress", "nosuchobject", "nosuchinstance", "endofmibview"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one typed SNMP value. Integer kinds use Int (Integer) or Uint
// (the unsigned ones); OctetString uses Bytes; OID and IPAddress use Text.
type Value struct {
	Kind  Kind
	Int   int64
	Uint  uint64
	Bytes []byte
	Text  string
}

// Missing reports whether the agent sent an exception instead of a value.
func (v Value) Missing() bool {
	return v.Kind == KindNoSuchObject || v.Kind == KindNoSuchInstance || v.Kind == KindEndOfMIBView
}

// Counter returns a counter's value and its width in bits (32 or 64).
func (v Value) Counter() (n uint64, bits int, ok bool) {
	switch v.Kind {
	case KindCounter32:
		return v.Uint, 32, true
	case KindCounter64:
		return v.Uint, 64, true
	}
	return 0, 0, false
}

// Number returns any numeric kind as a float64.
func (v Value) Number() (float64, bool) {
	switch v.Kind {
	case KindInteger:
		return float64(v.Int), true
	case KindUnsigned, KindCounter32, KindCounter64, KindGauge32, KindTimeTicks:
		return float64(v.Uint), true
	}
	return 0, false
}

// Int64 returns an integer kind as an int64 (false when it does not fit).
func (v Value) Int64() (int64, bool) {
	switch v.Kind {
	case KindInteger:
		return v.Int, true
	case KindUnsigned, KindCounter32, KindCounter64, KindGauge32, KindTimeTicks:
		if v.Uint > math.MaxInt64 {
			return 0, false
		}
		return int64(v.Uint), true
	}
	return 0, false
}

// String renders the value as text: octet strings as text when they are
// printable UTF-8 and as colon-separated hex otherwise (MAC addresses).
func (v Value) String() string {
	switch v.Kind {
	case KindInteger:
		return strconv.FormatInt(v.Int, 10)
	case KindUnsigned, KindCounter32, KindCounter64, KindGauge32, KindTimeTicks:
		return strconv.FormatUint(v.Uint, 10)
	case KindOctetString:
		s := strings.TrimRight(string(v.Bytes), "\x00")
		if utf8.ValidString(s) && printable(s) {
			return s
		}
		return hexString(v.Bytes)
	case KindOID, KindIPAddress:
		return v.Text
	}
	return ""
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 3*len(b))
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// FromPDU converts one gosnmp variable binding. It returns ok=false for a
// type it does not know or a Go value that does not fit the declared type
// (gosnmp leaves the value nil when it cannot parse it, and buggy agents
// send oversized integers); the caller skips such values and counts them.
func FromPDU(pdu gosnmp.SnmpPDU) (v Value, ok bool) {
	switch pdu.Type {
	case gosnmp.Null:
		return Value{Kind: KindNull}, true
	case gosnmp.NoSuchObject:
		return Value{Kind: KindNoSuchObject}, true
	case gosnmp.NoSuchInstance:
		return Value{Kind: KindNoSuchInstance}, true
	case gosnmp.EndOfMibView:
		return Value{Kind: KindEndOfMIBView}, true
	case gosnmp.Integer:
		n, ok := asInt64(pdu.Value)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return Value{}, false
		}
		return Value{Kind: KindInteger, Int: n}, true
	case gosnmp.Uinteger32, gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
		n, ok := asUint64(pdu.Value)
		if !ok || n > math.MaxUint32 {
			return Value{}, false
		}
		k := map[gosnmp.Asn1BER]Kind{gosnmp.Uinteger32: KindUnsigned, gosnmp.Counter32: KindCounter32,
			gosnmp.Gauge32: KindGauge32, gosnmp.TimeTicks: KindTimeTicks}[pdu.Type]
		return Value{Kind: k, Uint: n}, true
	case gosnmp.Counter64:
		n, ok := asUint64(pdu.Value)
		if !ok {
			return Value{}, false
		}
		return Value{Kind: KindCounter64, Uint: n}, true
	case gosnmp.OctetString:
		switch b := pdu.Value.(type) {
		case []byte:
			return Value{Kind: KindOctetString, Bytes: append([]byte(nil), b...)}, true
		case string:
			return Value{Kind: KindOctetString, Bytes: []byte(b)}, true
		}
		return Value{}, false
	case gosnmp.ObjectIdentifier:
		s, ok := pdu.Value.(string)
		if !ok || !validOID(s) {
			return Value{}, false
		}
		return Value{Kind: KindOID, Text: s}, true
	case gosnmp.IPAddress:
		s, ok := pdu.Value.(string)
		if !ok {
			return Value{}, false
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Value{}, false
		}
		return Value{Kind: KindIPAddress, Text: a.String()}, true
	}
	return Value{}, false
}

func asInt64(x any) (int64, bool) {
	switch n := x.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint, uint8, uint16, uint32, uint64:
		u, _ := asUint64(x)
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	return 0, false
}

func asUint64(x any) (uint64, bool) {
	switch n := x.(type) {
	case uint:
		return uint64(n), true
	case uint8:
		return uint64(n), true
	case uint16:
		return uint64(n), true
	case uint32:
		return uint64(n), true
	case uint64:
		return n, true
	case int, int8, int16, int32, int64:
		i, _ := asInt64(x)
		if i < 0 {
			return 0, false
		}
		return uint64(i), true
	}
	return 0, false
}

// validOID accepts dotted numeric OIDs with or without a leading dot.
func validOID(s string) bool {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if _, err := strconv.ParseUint(part, 10, 32); err != nil {
			return false
		}
	}
	return true
}

// normOID returns oid with a single leading dot, the form gosnmp uses in
// responses, so map keys match what callers asked for.
func normOID(oid string) (string, error) {
	o := "." + strings.TrimPrefix(strings.TrimSpace(oid), ".")
	if !validOID(o) {
		return "", fmt.Errorf("%q is not a numeric OID", oid)
	}
	return o, nil
}
