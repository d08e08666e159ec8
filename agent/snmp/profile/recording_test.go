package profile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

const recordingDir = "../testdata/snmprec"

// recordings: which profile each simulated device must match and which of
// its reads it serves; every other read of the profile must be absent
// altogether (a read half there means a wrong OID in the profile or the
// recording).
var recordings = map[string]struct {
	profile string
	present []string
}{
	"aruba-switch":     {"aruba-switch", []string{"system", "interfaces", "duplex", "entities", "entity_state", "power_supplies", "poe_main", "poe_summary", "poe_ports", "stp"}},
	"access-switch":    {"cisco-switch", []string{"system", "interfaces", "duplex", "cpu", "temperature", "entities", "power_supplies", "poe_main", "poe_summary", "poe_ports", "lldp", "stp"}},
	"core-switch":      {Generic, []string{"system", "interfaces", "duplex", "cpu", "memory", "entities", "entity_state", "power_supplies", "lldp", "stp", "vrrp"}},
	"cisco-wlc":        {"cisco-wlc", []string{"system", "interfaces", "wlc_aps", "wlc_radios", "wlc_radio_noise", "wlc_radio_load"}},
	"aruba-controller": {"aruba-controller", []string{"system", "interfaces", "aruba_aps", "aruba_radios"}},
	"unifi-ap":         {"unifi", []string{"system", "interfaces", "unifi_system", "unifi_vaps", "unifi_radios"}},
	"ups-on-battery":   {Generic, []string{"system", "interfaces", "ups"}},
}

// agentData maps a numeric OID (no leading dot) to its value as text.
type agentData map[string]string

func readSnmprec(t *testing.T, file string) agentData {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := agentData{}
	var prev []uint32
	for n, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("%s:%d: not OID|TYPE|VALUE: %q", file, n+1, line)
		}
		arcs, ok := ParseOID(parts[0])
		if !ok {
			t.Fatalf("%s:%d: bad OID %q", file, n+1, parts[0])
		}
		if prev != nil && slices.Compare(prev, arcs) >= 0 {
			t.Fatalf("%s:%d: %s is not after the previous OID: the file must be sorted", file, n+1, parts[0])
		}
		prev = arcs
		d[parts[0]] = parts[2]
	}
	return d
}

// instances returns the index suffixes under oid, with their values.
func (d agentData) instances(oid string) map[string]string {
	out := map[string]string{}
	for k, v := range d {
		if strings.HasPrefix(k, oid+".") {
			out[strings.TrimPrefix(k, oid+".")] = v
		}
	}
	return out
}

func suffixArcs(s string) []uint32 {
	var out []uint32
	for _, p := range strings.Split(s, ".") {
		v, _ := strconv.ParseUint(p, 10, 32)
		out = append(out, uint32(v))
	}
	return out
}

func joinArcs(a []uint32) string {
	parts := make([]string, len(a))
	for i, v := range a {
		parts[i] = strconv.FormatUint(uint64(v), 10)
	}
	return strings.Join(parts, ".")
}

// readPresence reports which of a read's OIDs the agent does not serve,
// and how many of its own scalars and columns it does. Lookups and filters
// often point at tables every device has (ifName), so they count as
// missing when absent but not as found when present.
func readPresence(r Read, d agentData) (missing []string, found int) {
	for _, c := range r.Scalars {
		if _, ok := d[c.OID]; ok {
			found++
		} else {
			missing = append(missing, c.Name+" "+c.OID)
		}
	}
	if t := r.Table; t != nil {
		check := func(name, oid string, own bool) {
			if len(d.instances(oid)) == 0 {
				missing = append(missing, name+" "+oid)
			} else if own {
				found++
			}
		}
		for _, c := range t.Columns {
			check(c.Name, c.OID, true)
		}
		for _, l := range t.Lookups {
			check(l.Name, l.OID, false)
		}
		for _, f := range t.Filters {
			check(f.Name, f.OID, false)
		}
	}
	return missing, found
}

// checkRows checks that every row's index fits the table's index and that
// every lookup finds its row.
func checkRows(t *testing.T, device string, r Read, d agentData) {
	t.Helper()
	tab := r.Table
	partOf := map[string]int{}
	for i, ip := range tab.Index {
		partOf[ip.Name] = i
	}
	colOID := map[string]string{}
	for _, c := range tab.Columns {
		colOID[c.Name] = c.OID
	}
	for suffix := range d.instances(tab.Columns[0].OID) {
		_, subids, err := tab.SplitIndex(suffixArcs(suffix))
		if err != nil {
			t.Errorf("%s: read %s: %s.%s: %v", device, r.Name, tab.Columns[0].OID, suffix, err)
			continue
		}
		for _, l := range tab.Lookups {
			var key string
			if i, ok := partOf[l.Key]; ok {
				key = joinArcs(subids[i])
			} else {
				key = d[colOID[l.Key]+"."+suffix]
			}
			if _, ok := d[l.OID+"."+key]; !ok {
				t.Errorf("%s: read %s: row %s: lookup %s finds nothing at %s.%s", device, r.Name, suffix, l.Name, l.OID, key)
			}
		}
	}
}

// crossCheck is the profile ↔ recording check: the device matches the
// expected profile, its expected reads are served in full, and no read is
// half served.
func crossCheck(t *testing.T, s *Set, device string, d agentData) {
	t.Helper()
	want, ok := recordings[device]
	if !ok {
		t.Fatalf("no expectations for recording %s", device)
	}
	p := s.Match(d["1.3.6.1.2.1.1.2.0"], d["1.3.6.1.2.1.1.1.0"])
	if p.Name != want.profile {
		t.Fatalf("%s matches profile %s, want %s", device, p.Name, want.profile)
	}
	names := readNames(s.Reads(p.Name))
	for _, n := range want.present {
		if !slices.Contains(names, n) {
			t.Errorf("%s: profile %s has no read %q", device, p.Name, n)
		}
	}
	for _, r := range s.Reads(p.Name) {
		missing, found := readPresence(r, d)
		expected := slices.Contains(want.present, r.Name)
		switch {
		case expected && len(missing) > 0:
			t.Errorf("%s: read %s: not served: %s", device, r.Name, strings.Join(missing, ", "))
		case !expected && found > 0:
			t.Errorf("%s: read %s: %d OIDs served, %d missing (%s): a half-served read is a wrong OID; or list it as present", device, r.Name, found, len(missing), strings.Join(missing, ", "))
		}
		if expected && r.Table != nil {
			checkRows(t, device, r, d)
		}
	}
}

func recordingFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(recordingDir, "*.snmprec"))
	if err != nil || len(files) != len(recordings) {
		t.Fatalf("recordings %v (%v), want %d", files, err, len(recordings))
	}
	return files
}

func deviceName(file string) string { return strings.TrimSuffix(filepath.Base(file), ".snmprec") }

// TestRecordingsCoverProfiles runs the cross-check on the files themselves.
func TestRecordingsCoverProfiles(t *testing.T) {
	s := shipped(t)
	for _, f := range recordingFiles(t) {
		crossCheck(t, s, deviceName(f), readSnmprec(t, f))
	}
}

// TestRecordingsMatchGenerator: the checked-in recordings are gen.py's
// output, so nobody edits them by hand.
func TestRecordingsMatchGenerator(t *testing.T) {
	python := testenv.RequireBinary(t, "python3")
	out := t.TempDir()
	cmd := exec.Command(python, "../testdata/gen.py", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.py: %v\n%s", err, b)
	}
	generated, _ := filepath.Glob(filepath.Join(out, "*.snmprec"))
	if len(generated) != len(recordingFiles(t)) {
		t.Fatalf("gen.py wrote %d files, %d are checked in", len(generated), len(recordingFiles(t)))
	}
	for _, g := range generated {
		want, _ := os.ReadFile(g)
		got, err := os.ReadFile(filepath.Join(recordingDir, filepath.Base(g)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from gen.py's output (%v): run python3 agent/snmp/testdata/gen.py", filepath.Base(g), err)
		}
	}
}

// TestRecordingsServedBySnmpsim serves every recording with Debian's
// snmpsimd on loopback, walks it with net-snmp's snmpbulkwalk and runs the
// cross-check on what came back over the wire.
func TestRecordingsServedBySnmpsim(t *testing.T) {
	testenv.RequireIntegration(t, "snmpsimd serving the recordings")
	testenv.RequireRoot(t) // snmpsimd drops privileges to nobody
	snmpsimd := testenv.RequireBinary(t, "snmpsimd")
	walker := testenv.RequireBinary(t, "snmpbulkwalk")
	getter := testenv.RequireBinary(t, "snmpget")

	// snmpsimd runs as nobody: its data must be readable and its cache
	// writable by nobody, which t.TempDir (0700) is not.
	root, err := os.MkdirTemp("", "probity-snmpsim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	data, cache := filepath.Join(root, "data"), filepath.Join(root, "cache")
	for _, dir := range []string{data, cache} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range []error{os.Chmod(root, 0o755), os.Chmod(cache, 0o777)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range recordingFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freeUDPPort(t)
	endpoint := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	sim := exec.CommandContext(ctx, snmpsimd, "--data-dir="+data, "--cache-dir="+cache,
		"--agent-udpv4-endpoint="+endpoint, "--process-user=nobody", "--process-group=nogroup", "--logging-method=null")
	sim.Stdout, sim.Stderr = &logs, &logs
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = sim.Wait()
		if t.Failed() {
			t.Logf("snmpsimd output:\n%s", tail(logs.String(), 4000))
		}
	})

	env := append(os.Environ(), "MIBS=") // no MIBs are installed; numeric OIDs only
	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		cmd := exec.Command(getter, "-v2c", "-c", "ups-on-battery", "-On", "-t", "1", "-r", "0", endpoint, "1.3.6.1.2.1.1.5.0")
		cmd.Env = env
		if out, err := cmd.Output(); err == nil && strings.Contains(string(out), "ups-1") {
			ready = true
			break
		}
	}
	if !ready {
		t.Fatalf("snmpsimd did not answer on %s", endpoint)
	}

	s := shipped(t)
	for _, f := range recordingFiles(t) {
		device := deviceName(f)
		cmd := exec.Command(walker, "-v2c", "-c", device, "-On", "-Oq", "-Ot", "-Cr25", "-t", "3", "-r", "1", endpoint, ".1")
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("%s: snmpbulkwalk: %v", device, err)
			continue
		}
		walked := parseWalk(out)
		file := readSnmprec(t, f)
		if len(walked) != len(file) {
			t.Errorf("%s: walk returned %d OIDs, the recording has %d", device, len(walked), len(file))
		}
		crossCheck(t, s, device, walked)
	}
}

// parseWalk reads `snmpbulkwalk -On -Oq` output: ".OID value" per line;
// lines that do not start with a dot continue a long value and are skipped,
// as are the end-of-MIB markers.
func parseWalk(out []byte) agentData {
	d := agentData{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, ".") {
			continue
		}
		oid, val, _ := strings.Cut(line, " ")
		if strings.Contains(val, "No more variables left") {
			continue
		}
		d[strings.TrimPrefix(oid, ".")] = strings.TrimPrefix(strings.Trim(val, `"`), ".")
	}
	return d
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
