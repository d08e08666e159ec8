package snmp

import (
	"math"
	"testing"

	"github.com/gosnmp/gosnmp"
)

func TestFromPDU(t *testing.T) {
	for _, tc := range []struct {
		pdu  gosnmp.SnmpPDU
		want Value
		str  string
	}{
		{gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: -5}, Value{Kind: KindInteger, Int: -5}, "-5"},
		{gosnmp.SnmpPDU{Type: gosnmp.Counter32, Value: uint(4294967295)}, Value{Kind: KindCounter32, Uint: math.MaxUint32}, "4294967295"},
		{gosnmp.SnmpPDU{Type: gosnmp.Counter64, Value: uint64(math.MaxUint64)}, Value{Kind: KindCounter64, Uint: math.MaxUint64}, "18446744073709551615"},
		{gosnmp.SnmpPDU{Type: gosnmp.Gauge32, Value: uint(1000)}, Value{Kind: KindGauge32, Uint: 1000}, "1000"},
		{gosnmp.SnmpPDU{Type: gosnmp.TimeTicks, Value: uint32(123456)}, Value{Kind: KindTimeTicks, Uint: 123456}, "123456"},
		{gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("Gi1/0/1")}, Value{Kind: KindOctetString, Bytes: []byte("Gi1/0/1")}, "Gi1/0/1"},
		{gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte{0, 0x11, 0xaa, 1, 2, 0xff}}, Value{Kind: KindOctetString, Bytes: []byte{0, 0x11, 0xaa, 1, 2, 0xff}}, "00:11:aa:01:02:ff"},
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.9.1.1208"}, Value{Kind: KindOID, Text: ".1.3.6.1.4.1.9.1.1208"}, ".1.3.6.1.4.1.9.1.1208"},
		{gosnmp.SnmpPDU{Type: gosnmp.IPAddress, Value: "192.0.2.7"}, Value{Kind: KindIPAddress, Text: "192.0.2.7"}, "192.0.2.7"},
		{gosnmp.SnmpPDU{Type: gosnmp.NoSuchObject}, Value{Kind: KindNoSuchObject}, ""},
		{gosnmp.SnmpPDU{Type: gosnmp.NoSuchInstance}, Value{Kind: KindNoSuchInstance}, ""},
		{gosnmp.SnmpPDU{Type: gosnmp.EndOfMibView}, Value{Kind: KindEndOfMIBView}, ""},
	} {
		got, ok := FromPDU(tc.pdu)
		if !ok || got.Kind != tc.want.Kind || got.Int != tc.want.Int || got.Uint != tc.want.Uint ||
			string(got.Bytes) != string(tc.want.Bytes) || got.Text != tc.want.Text {
			t.Errorf("FromPDU(%v %v) = %+v %v, want %+v", tc.pdu.Type, tc.pdu.Value, got, ok, tc.want)
			continue
		}
		if s := got.String(); s != tc.str {
			t.Errorf("String() of %v = %q, want %q", tc.pdu.Type, s, tc.str)
		}
	}
	if v, _ := FromPDU(gosnmp.SnmpPDU{Type: gosnmp.NoSuchInstance}); !v.Missing() {
		t.Error("NoSuchInstance should be Missing")
	}
	if n, bits, ok := (Value{Kind: KindCounter32, Uint: 7}).Counter(); !ok || n != 7 || bits != 32 {
		t.Errorf("Counter() = %d %d %v", n, bits, ok)
	}
	if _, _, ok := (Value{Kind: KindGauge32, Uint: 7}).Counter(); ok {
		t.Error("a gauge is not a counter")
	}
}

func TestFromPDUMalformed(t *testing.T) {
	for _, pdu := range []gosnmp.SnmpPDU{
		{Type: gosnmp.Counter32, Value: nil},                    // gosnmp could not parse it
		{Type: gosnmp.Counter32, Value: uint(1) << 40},          // too big for 32 bits
		{Type: gosnmp.Counter64, Value: "12"},                   // wrong Go type
		{Type: gosnmp.Integer, Value: int64(math.MaxInt32) + 1}, // too big for Integer32
		{Type: gosnmp.Gauge32, Value: -1},
		{Type: gosnmp.OctetString, Value: 42},
		{Type: gosnmp.ObjectIdentifier, Value: "1.3.x"},
		{Type: gosnmp.IPAddress, Value: nil}, // gosnmp's value for a zero-length address
		{Type: gosnmp.IPAddress, Value: "300.1.1.1"},
		{Type: gosnmp.Opaque, Value: []byte{1}},
		{Type: gosnmp.Asn1BER(0x99), Value: 1},
	} {
		if v, ok := FromPDU(pdu); ok {
			t.Errorf("FromPDU(%v %#v) accepted as %+v", pdu.Type, pdu.Value, v)
		}
	}
}

// FuzzValue feeds arbitrary BER-encoded values through gosnmp's own decoder
// (as an agent's response would reach it) and then FromPDU: neither may
// panic, and an accepted value must be consistent with its kind.
func FuzzValue(f *testing.F) {
	for _, seed := range [][]byte{
		{0x41, 0x04, 0xff, 0xff, 0xff, 0xff},       // Counter32 max
		{0x41, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00}, // Counter32 too wide
		{0x46, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0x02, 0x01, 0x80},
		{0x04, 0x03, 'a', 'b', 'c'},
		{0x06, 0x03, 0x2b, 0x06, 0x01},
		{0x40, 0x04, 192, 0, 2, 1},
		{0x40, 0x00},
		{0x43, 0x02, 0x01, 0x00},
		{0x80, 0x00}, {0x81, 0x00}, {0x82, 0x00},
		{0x44, 0x07, 0x9f, 0x78, 0x04, 0x3f, 0x80, 0x00, 0x00},
	} {
		f.Add(seed)
	}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	f.Fuzz(func(t *testing.T, ber []byte) {
		if len(ber) == 0 || len(ber) > 200 {
			return
		}
		msg := berResponse(ber)
		if msg == nil {
			return
		}
		pkt, err := g.SnmpDecodePacket(msg)
		if err != nil || pkt == nil {
			return
		}
		for _, p := range pkt.Variables {
			v, ok := FromPDU(p)
			if !ok {
				continue
			}
			_ = v.String()
			_, _ = v.Number()
			if v.Kind == KindCounter32 || v.Kind == KindGauge32 || v.Kind == KindTimeTicks {
				if v.Uint > math.MaxUint32 {
					t.Fatalf("%v accepted with %d", v.Kind, v.Uint)
				}
			}
		}
		// The Go values gosnmp could produce, paired with every type.
		for _, typ := range []gosnmp.Asn1BER{gosnmp.Integer, gosnmp.Counter32, gosnmp.Counter64, gosnmp.Gauge32,
			gosnmp.TimeTicks, gosnmp.OctetString, gosnmp.ObjectIdentifier, gosnmp.IPAddress, gosnmp.Opaque, gosnmp.Asn1BER(ber[0])} {
			for _, val := range []any{nil, ber, string(ber), len(ber), uint(len(ber)) << 33, -len(ber)} {
				_, _ = FromPDU(gosnmp.SnmpPDU{Type: typ, Value: val})
			}
		}
	})
}

// berResponse wraps one BER-encoded value in a v2c GetResponse for OID
// 1.3.6.1 (nil when it would need multi-byte lengths).
func berResponse(ber []byte) []byte {
	vb := append([]byte{0x06, 0x03, 0x2b, 0x06, 0x01}, ber...)
	vb = append([]byte{0x30, byte(len(vb))}, vb...)
	vbl := append([]byte{0x30, byte(len(vb))}, vb...)
	pdu := append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00}, vbl...)
	pdu = append([]byte{0xa2, byte(len(pdu))}, pdu...)
	msg := append([]byte{0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c'}, pdu...)
	if len(msg) > 127 {
		return nil
	}
	return append([]byte{0x30, byte(len(msg))}, msg...)
}

// TestBERResponse checks the fuzz framing: a well-formed Counter32 decodes
// through gosnmp and FromPDU, and a 5-byte one is refused, not truncated.
func TestBERResponse(t *testing.T) {
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	pkt, err := g.SnmpDecodePacket(berResponse([]byte{0x41, 0x04, 0xff, 0xff, 0xff, 0xff}))
	if err != nil || len(pkt.Variables) != 1 {
		t.Fatalf("decode: %v %+v", err, pkt)
	}
	if v, ok := FromPDU(pkt.Variables[0]); !ok || v.Kind != KindCounter32 || v.Uint != math.MaxUint32 {
		t.Errorf("Counter32 max decoded as %+v %v", v, ok)
	}
	pkt, err = g.SnmpDecodePacket(berResponse([]byte{0x41, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00}))
	if err == nil && len(pkt.Variables) == 1 {
		if v, ok := FromPDU(pkt.Variables[0]); ok {
			t.Errorf("a 33-bit Counter32 was accepted as %+v", v)
		}
	}
}
