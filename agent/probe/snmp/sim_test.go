package snmp

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probity-edu/probity/internal/testenv"
)

// startSnmpsim serves the recordings in agent/snmp/testdata/snmprec from a
// real snmpsimd on loopback, one device per recording, the file name being
// the v2c community. It returns the endpoint and the recording names.
func startSnmpsim(t *testing.T) (endpoint string, names []string) {
	t.Helper()
	testenv.RequireIntegration(t, "snmpsimd serving the recordings")
	files := testenv.Recordings(t, filepath.Join("..", "..", "snmp", "testdata", "snmprec"))
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".snmprec"))
	}
	return testenv.StartSnmpsim(t, files), names
}

// deadDevice is a UDP socket on loopback that reads requests and never
// answers: a device that is down or filtered.
func deadDevice(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return c.LocalAddr().String()
}
