package snmp

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// Credentials of the snmpd instances the integration tests start.
const (
	testCommunity  = "public"
	u1Auth, u1Priv = "authpass123", "privpass123"   // SHA / AES
	u2Auth, u2Priv = "authpass256x", "privpass256x" // SHA-256 / AES
	testSysName    = "test-snmpd"
	oidSysName     = "1.3.6.1.2.1.1.5.0"
	oidSysUpTime   = "1.3.6.1.2.1.1.3.0"
	oidIfDescr     = "1.3.6.1.2.1.2.2.1.2"
	oidIfInOctets  = "1.3.6.1.2.1.2.2.1.10"
	oidIfName      = "1.3.6.1.2.1.31.1.1.1.1"
	oidIfHCInOct   = "1.3.6.1.2.1.31.1.1.1.6"
)

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port
}

// startSnmpd runs net-snmp's snmpd in the foreground on a random loopback
// port with a fresh persistent directory (createUser keys live there) and
// returns its address once it answers.
func startSnmpd(t *testing.T) string {
	t.Helper()
	testenv.RequireIntegration(t, "net-snmp snmpd on loopback")
	bin := testenv.RequireBinary(t, "snmpd")
	dir := t.TempDir()
	persist := filepath.Join(dir, "persist")
	if err := os.Mkdir(persist, 0o700); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		port := freeUDPPort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		conf := fmt.Sprintf(`agentAddress udp:%s
rocommunity %s 127.0.0.1
createUser u1 SHA "%s" AES "%s"
createUser u2 SHA-256 "%s" AES "%s"
rouser u1 priv
rouser u2 priv
sysName %s
`, addr, testCommunity, u1Auth, u1Priv, u2Auth, u2Priv, testSysName)
		cfg := filepath.Join(dir, "snmpd.conf")
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(dir, "snmpd.log")
		cmd := exec.Command(bin, "-f", "-Lf", log, "-C", "-c", cfg, "-p", filepath.Join(dir, "snmpd.pid"))
		cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+persist)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
		if waitSnmpd(addr, exited) {
			return addr
		}
		_ = cmd.Process.Kill()
		<-exited
		b, _ := os.ReadFile(log)
		if attempt == 2 {
			t.Fatalf("snmpd on %s did not answer:\n%s", addr, b)
		}
		t.Logf("snmpd on %s did not answer (retrying on another port):\n%s", addr, b)
		os.RemoveAll(persist)
		os.Mkdir(persist, 0o700)
	}
}

func waitSnmpd(addr string, exited <-chan struct{}) bool {
	c, err := NewClient(Target{Name: "probe", Address: addr, Community: testCommunity, Timeout: 100 * time.Millisecond, Retries: -1})
	if err != nil {
		return false
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if _, err := c.Get(context.Background(), []string{oidSysName}); err == nil {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// blackhole is a UDP socket that reads and drops everything: a device that
// never answers.
func blackhole(t *testing.T) string {
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

// relay forwards UDP between one client and an upstream agent, delaying
// every request by delay and dropping responses larger than maxResp bytes
// (0: no limit), like a slow device or a path that loses big fragments.
type relay struct {
	addr    string
	mu      sync.Mutex
	dropped int
	relayed int
	maxSeen int
}

func startRelay(t *testing.T, upstream string, delay time.Duration, maxResp int) *relay {
	t.Helper()
	front, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ua, err := net.ResolveUDPAddr("udp4", upstream)
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp4", nil, ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { front.Close(); back.Close() })
	r := &relay{addr: front.LocalAddr().String()}
	var client net.Addr
	var cmu sync.Mutex
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := front.ReadFrom(buf)
			if err != nil {
				return
			}
			cmu.Lock()
			client = from
			cmu.Unlock()
			pkt := append([]byte(nil), buf[:n]...)
			time.AfterFunc(delay, func() { _, _ = back.Write(pkt) })
		}
	}()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := back.Read(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.maxSeen = max(r.maxSeen, n)
			drop := maxResp > 0 && n > maxResp
			if drop {
				r.dropped++
			} else {
				r.relayed++
			}
			r.mu.Unlock()
			cmu.Lock()
			to := client
			cmu.Unlock()
			if !drop && to != nil {
				_, _ = front.WriteTo(buf[:n], to)
			}
		}
	}()
	return r
}

func (r *relay) counts() (relayed, dropped, largest int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.relayed, r.dropped, r.maxSeen
}
