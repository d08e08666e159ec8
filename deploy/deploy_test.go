package deploy_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// pkg is one of the two packages and what differs between them.
type pkg struct {
	name   string // probity-agent
	short  string // agent
	unit   string // probity-agent.service
	config string // /etc/probity/agent.yaml
	state  string // /var/lib/probity/agent
}

var packages = []pkg{
	{"probity-agent", "agent", "probity-agent.service", "/etc/probity/agent.yaml", "/var/lib/probity/agent"},
	{"probity-collector", "collector", "probity-collector.service", "/etc/probity/collector.yaml", "/var/lib/probity/collector"},
}

// debArches maps each Debian architecture to its Go build and ELF machine.
var debArches = map[string]struct {
	goarch  string
	machine elf.Machine
	class   elf.Class
}{
	"amd64": {"amd64", elf.EM_X86_64, elf.ELFCLASS64},
	"arm64": {"arm64", elf.EM_AARCH64, elf.ELFCLASS64},
	"armhf": {"arm", elf.EM_ARM, elf.ELFCLASS32},
}

var debianVersion = regexp.MustCompile(`^[0-9][0-9A-Za-z.+~]*$`)

// deb is a built package file.
type deb struct {
	path, name, version, arch string
}

// findDebs returns the newest .deb of each package and architecture in
// $PROBITY_DIST or ../dist, or skips (fails when required) without all six.
func findDebs(t *testing.T) map[string]deb {
	t.Helper()
	dir := os.Getenv("PROBITY_DIST")
	if dir == "" {
		dir = filepath.Join("..", "dist")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "probity-*_*_*.deb"))
	found := map[string]deb{}
	newest := map[string]time.Time{}
	for _, p := range paths {
		parts := strings.Split(strings.TrimSuffix(filepath.Base(p), ".deb"), "_")
		if len(parts) != 3 {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		k := parts[0] + "_" + parts[2]
		if st.ModTime().After(newest[k]) {
			newest[k] = st.ModTime()
			found[k] = deb{path: p, name: parts[0], version: parts[1], arch: parts[2]}
		}
	}
	for _, p := range packages {
		for a := range debArches {
			if _, ok := found[p.name+"_"+a]; !ok {
				testenv.Unavailable(t, "no %s package for %s in %s: run make package (or set PROBITY_DIST)", p.name, a, dir)
			}
		}
	}
	return found
}

// TestIntegrationDebContents reads every built package: control fields,
// conffiles, maintainer scripts, and every file's owner, mode and content,
// down to the ELF header and Go build settings of the binary.
func TestIntegrationDebContents(t *testing.T) {
	testenv.RequireIntegration(t, "the built .deb packages")
	testenv.RequireBinary(t, "dpkg-deb")
	debs := findDebs(t)
	for _, p := range packages {
		unitFile, err := os.ReadFile(filepath.Join("systemd", p.unit))
		if err != nil {
			t.Fatal(err)
		}
		for arch, want := range debArches {
			d := debs[p.name+"_"+arch]
			t.Run(filepath.Base(d.path), func(t *testing.T) {
				fields := controlFields(t, d.path)
				for k, v := range map[string]string{"Package": p.name, "Architecture": arch, "Version": d.version} {
					if fields[k] != v {
						t.Errorf("%s: %q, want %q", k, fields[k], v)
					}
				}
				if !debianVersion.MatchString(fields["Version"]) {
					t.Errorf("Version %q is not a native Debian version", fields["Version"])
				}
				if got := fields["Depends"]; got != "adduser, init-system-helpers (>= 1.54~)" {
					t.Errorf("Depends: %q", got)
				}
				if fields["Maintainer"] == "" || fields["Description"] == "" {
					t.Errorf("no Maintainer or Description: %v", fields)
				}

				ctrl := tarEntries(t, "--ctrl-tarfile", d.path)
				if got := string(ctrl["conffiles"].data); got != p.config+"\n" {
					t.Errorf("conffiles: %q, want exactly %s", got, p.config)
				}
				for _, s := range []string{"postinst", "prerm", "postrm"} {
					e, ok := ctrl[s]
					if !ok {
						t.Errorf("no %s", s)
						continue
					}
					if e.mode != 0o755 || !bytes.HasPrefix(e.data, []byte("#!/bin/sh\n")) {
						t.Errorf("%s: mode %o, starts %q", s, e.mode, e.data[:min(len(e.data), 12)])
					}
					if out, err := shSyntax(e.data); err != nil {
						t.Errorf("%s: sh -n: %v: %s", s, err, out)
					}
				}
				for s := range ctrl {
					if !slices.Contains([]string{"control", "md5sums", "conffiles", "postinst", "prerm", "postrm"}, s) {
						t.Errorf("unexpected control member %s", s)
					}
				}

				data := tarEntries(t, "--fsys-tarfile", d.path)
				doc := "/usr/share/doc/" + p.name + "/"
				wantFiles := map[string]entry{
					"/usr/bin/" + p.name:                {typ: tar.TypeReg, mode: 0o755, owner: "root", group: "root"},
					p.config:                            {typ: tar.TypeReg, mode: 0o640, owner: "root", group: "probity"},
					"/usr/lib/systemd/system/" + p.unit: {typ: tar.TypeReg, mode: 0o644, owner: "root", group: "root"},
					"/var/lib/probity":                  {typ: tar.TypeDir, mode: 0o750, owner: "probity", group: "probity"},
					p.state:                             {typ: tar.TypeDir, mode: 0o750, owner: "probity", group: "probity"},
					"/etc/probity":                      {typ: tar.TypeDir, mode: 0o755, owner: "root", group: "root"},
					doc + "README.md":                   {typ: tar.TypeReg, mode: 0o644, owner: "root", group: "root"},
					doc + "README.Debian":               {typ: tar.TypeReg, mode: 0o644, owner: "root", group: "root"},
				}
				for path, w := range wantFiles {
					e, ok := data[path]
					if !ok {
						t.Errorf("%s missing", path)
						continue
					}
					if e.typ != w.typ || e.mode != w.mode || e.owner != w.owner || e.group != w.group {
						t.Errorf("%s: type %c mode %04o %s:%s, want type %c mode %04o %s:%s",
							path, e.typ, e.mode, e.owner, e.group, w.typ, w.mode, w.owner, w.group)
					}
				}
				for path, e := range data {
					if e.mode&0o7000 != 0 {
						t.Errorf("%s has mode %04o: no setuid, setgid or sticky files", path, e.mode)
					}
					if e.typ == tar.TypeDir {
						continue
					}
					_, expected := wantFiles[path]
					if !expected && !(strings.HasPrefix(path, doc) && e.mode == 0o644) {
						t.Errorf("unexpected file %s (mode %04o)", path, e.mode)
					}
				}
				if got := data["/usr/lib/systemd/system/"+p.unit].data; !bytes.Equal(got, unitFile) {
					t.Errorf("%s differs from deploy/systemd/%s", p.unit, p.unit)
				}
				checkBinary(t, data["/usr/bin/"+p.name].data, want.machine, want.class, want.goarch)
			})
		}
	}
}

// checkBinary reads the ELF header and the Go build settings: the right
// machine, no interpreter (static), CGO off, and GOARM=7 for armhf.
func checkBinary(t *testing.T, bin []byte, machine elf.Machine, class elf.Class, goarch string) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("binary: %v", err)
	}
	if f.Machine != machine || f.Class != class || f.Type != elf.ET_EXEC {
		t.Errorf("ELF machine %v class %v type %v, want %v %v ET_EXEC", f.Machine, f.Class, f.Type, machine, class)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("binary has an ELF interpreter: not static")
		}
	}
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("Go build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	want := map[string]string{"GOOS": "linux", "GOARCH": goarch, "CGO_ENABLED": "0"}
	if goarch == "arm" {
		want["GOARM"] = "7" // hard float, ARMv7: Debian's armhf
	}
	for k, v := range want {
		if settings[k] != v {
			t.Errorf("build setting %s=%q, want %q", k, settings[k], v)
		}
	}
}

func controlFields(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "-f", path).Output()
	if err != nil {
		t.Fatalf("dpkg-deb -f %s: %v", path, err)
	}
	fields := map[string]string{}
	var last string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, " ") && last != "" {
			fields[last] += "\n" + line
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok {
			fields[k], last = v, k
		}
	}
	return fields
}

// entry is one member of a package's control or data tarball.
type entry struct {
	typ          byte
	mode         int64
	owner, group string
	data         []byte
}

// tarEntries reads `dpkg-deb <how> path` (--ctrl-tarfile or
// --fsys-tarfile), keyed by absolute path (control members by name).
func tarEntries(t *testing.T, how, path string) map[string]entry {
	t.Helper()
	out, err := exec.Command("dpkg-deb", how, path).Output()
	if err != nil {
		t.Fatalf("dpkg-deb %s %s: %v", how, path, err)
	}
	entries := map[string]entry{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "."), "/")
		if how == "--ctrl-tarfile" {
			name = strings.TrimPrefix(name, "/")
		}
		if name == "" {
			continue
		}
		entries[name] = entry{typ: h.Typeflag, mode: h.Mode & 0o7777, owner: h.Uname, group: h.Gname, data: data}
	}
	return entries
}

func shSyntax(script []byte) ([]byte, error) {
	cmd := exec.Command("sh", "-n")
	cmd.Stdin = bytes.NewReader(script)
	return cmd.CombinedOutput()
}

// TestIntegrationInstallUpgradeRemovePurge installs the amd64 packages into
// a fresh Debian 12 root (chroot, /proc mounted, no systemd running, so no
// service can start and the host's systemd is never asked anything), then
// checks the user, ownership, enabled units, systemd-analyze, the ICMP
// drop-in both ways, an upgrade that keeps an edited conffile, removal and
// purge.
func TestIntegrationInstallUpgradeRemovePurge(t *testing.T) {
	testenv.RequireIntegration(t, "a Debian root, dpkg and chroot")
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "dpkg-deb")
	debs := findDebs(t)
	agentDeb, collectorDeb := debs["probity-agent_amd64"], debs["probity-collector_amd64"]
	r := newChroot(t)
	agent, collector := packages[0], packages[1]

	if _, err := os.Stat(r.path("/run/systemd/system")); err == nil {
		t.Fatal("the root has /run/systemd/system: the scripts would try to start services")
	}
	// As on a Debian image build: no service may start from a maintainer script.
	r.write(t, "/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755)
	r.copyIn(t, agentDeb.path, "/tmp/agent.deb")
	r.copyIn(t, collectorDeb.path, "/tmp/collector.deb")

	// Unpacked before the postinst has created the group: dpkg falls back
	// to root:root for the root:probity config.
	r.run(t, "dpkg", "--unpack", "/tmp/agent.deb")
	if _, err := r.try("getent", "group", "probity"); err == nil {
		t.Fatal("group probity exists before configure")
	}
	r.checkOwner(t, agent.config+".dpkg-new", 0, 0, 0o640)
	r.run(t, "dpkg", "--configure", "probity-agent")
	r.run(t, "dpkg", "-i", "/tmp/collector.deb")

	// The user and group.
	pw := strings.Split(strings.TrimSpace(r.run(t, "getent", "passwd", "probity")), ":")
	if len(pw) != 7 {
		t.Fatalf("getent passwd probity: %q", pw)
	}
	uid, _ := strconv.Atoi(pw[2])
	gid, _ := strconv.Atoi(pw[3])
	if uid == 0 || uid >= 1000 || pw[5] != "/var/lib/probity" || pw[6] != "/usr/sbin/nologin" {
		t.Fatalf("probity user: %q, want a system user with home /var/lib/probity and shell /usr/sbin/nologin", pw)
	}
	gr := strings.Split(strings.TrimSpace(r.run(t, "getent", "group", "probity")), ":")
	if gr[2] != strconv.Itoa(gid) || gid >= 1000 {
		t.Fatalf("probity group %q, user's gid %d", gr, gid)
	}
	if sh := r.run(t, "getent", "shadow", "probity"); !strings.HasPrefix(strings.Split(sh, ":")[1], "!") && strings.Split(sh, ":")[1] != "*" {
		t.Errorf("probity has a usable password: %q", sh)
	}

	checkInstalled := func(t *testing.T) {
		t.Helper()
		for _, p := range []pkg{agent, collector} {
			r.checkOwner(t, "/usr/bin/"+p.name, 0, 0, 0o755)
			r.checkOwner(t, "/usr/lib/systemd/system/"+p.unit, 0, 0, 0o644)
			r.checkOwner(t, p.config, 0, gid, 0o640)
			r.checkOwner(t, p.state, uid, gid, 0o750)
			r.checkEnabled(t, p.unit)
		}
		r.checkOwner(t, "/var/lib/probity", uid, gid, 0o750)
		r.checkOwner(t, "/etc/probity", 0, 0, 0o755)
	}
	checkInstalled(t)
	overrides := r.run(t, "dpkg-statoverride", "--list")
	for _, want := range []string{
		"probity probity 750 /var/lib/probity\n", "probity probity 750 /var/lib/probity/agent\n",
		"probity probity 750 /var/lib/probity/collector\n", "root probity 640 /etc/probity/agent.yaml\n",
		"root probity 640 /etc/probity/collector.yaml\n",
	} {
		if !strings.Contains(overrides, want) {
			t.Errorf("dpkg-statoverride --list lacks %q:\n%s", want, overrides)
		}
	}

	// The ICMP drop-in, first as the real sysctl says, then with fake
	// ranges through the postinst's PROBITY_PING_GROUP_RANGE_FILE.
	dropin := "/etc/systemd/system/probity-agent.service.d/50-icmp.conf"
	hostRange, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(hostRange), &lo, &hi); err != nil {
		t.Fatal(err)
	}
	r.checkDropin(t, dropin, gid < lo || gid > hi, fmt.Sprintf("host ping_group_range %q, gid %d", hostRange, gid))
	for _, c := range []struct {
		rng  string
		want bool
	}{
		{"1\t0", true}, // the kernel's default: nobody
		{"0 2147483647", false},
		{fmt.Sprintf("%d %d", gid, gid), false},
		{fmt.Sprintf("%d 2147483647", gid+1), true},
		{fmt.Sprintf("0 %d", gid-1), true},
		{"0 2147483647", false},
		{"1 0", true},
	} {
		r.write(t, "/tmp/ping_group_range", c.rng+"\n", 0o644)
		r.run(t, "env", "PROBITY_PING_GROUP_RANGE_FILE=/tmp/ping_group_range", "dpkg-reconfigure", "probity-agent")
		r.checkDropin(t, dropin, c.want, "range "+c.rng)
		if c.want {
			r.verify(t, agent.unit) // with the drop-in
		}
	}
	// An administrator's own 50-icmp.conf is left alone.
	mine := "[Service]\n# the administrator's own\nAmbientCapabilities=CAP_NET_RAW\n"
	r.write(t, dropin, mine, 0o644)
	r.write(t, "/tmp/ping_group_range", "0 2147483647\n", 0o644)
	r.run(t, "env", "PROBITY_PING_GROUP_RANGE_FILE=/tmp/ping_group_range", "dpkg-reconfigure", "probity-agent")
	if got := r.read(t, dropin); got != mine {
		t.Errorf("the administrator's drop-in was changed:\n%s", got)
	}
	r.run(t, "rm", dropin)

	// systemd-analyze inside the root: no warnings at all, and an exposure
	// score of at most 2.5 ("OK"). A broken copy shows verify is not idle.
	for _, p := range []pkg{agent, collector} {
		r.verify(t, p.unit)
		r.verify(t, "/usr/lib/systemd/system/"+p.unit)
		out := r.run(t, "systemd-analyze", "security", "--offline=yes", "--no-pager", "/usr/lib/systemd/system/"+p.unit)
		m := regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(p.unit) + `: ([0-9.]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("systemd-analyze security %s: no exposure level in:\n%s", p.unit, out)
		}
		if score, _ := strconv.ParseFloat(m[1], 64); score > 2.5 {
			t.Errorf("%s exposure %s, want at most 2.5:\n%s", p.unit, m[1], out)
		}
		t.Logf("systemd-analyze security: %s exposure %s", p.unit, m[1])
	}
	broken := strings.Replace(r.read(t, "/usr/lib/systemd/system/"+agent.unit), "ProtectSystem=strict", "ProtectSystem=bogus", 1)
	r.write(t, "/tmp/broken.service", broken, 0o644)
	// (verify exits 0 on such warnings: hence verify() wants no output.)
	if out, _ := r.try("systemd-analyze", "verify", "/tmp/broken.service"); !strings.Contains(out, "bogus") {
		t.Errorf("systemd-analyze verify said nothing of ProtectSystem=bogus: %q", out)
	}

	// Upgrade to a higher version whose conffiles changed: the edited
	// agent.yaml is kept (the new one beside it as .dpkg-dist), the
	// untouched collector.yaml is replaced, ownership and enablement stay.
	edit := "\n# edited by the administrator\n"
	r.write(t, agent.config, r.read(t, agent.config)+edit, 0o640)
	agent2, collector2 := buildUpgrade(t, agentDeb, collectorDeb, "99.0.0")
	r.copyIn(t, agent2, "/tmp/agent2.deb")
	r.copyIn(t, collector2, "/tmp/collector2.deb")
	r.run(t, "dpkg", "-i", "--force-confold", "/tmp/agent2.deb", "/tmp/collector2.deb")
	for _, p := range []pkg{agent, collector} {
		if v := r.run(t, "dpkg-query", "-W", "-f=${Version} ${db:Status-Abbrev}", p.name); v != "99.0.0 ii " {
			t.Errorf("%s after upgrade: %q", p.name, v)
		}
	}
	if got := r.read(t, agent.config); !strings.HasSuffix(got, edit) || strings.Contains(got, upgradeMarker) {
		t.Errorf("upgrade lost the edit of %s", agent.config)
	}
	if got := r.read(t, agent.config+".dpkg-dist"); !strings.Contains(got, upgradeMarker) {
		t.Errorf("%s.dpkg-dist is not the new version", agent.config)
	}
	if got := r.read(t, collector.config); !strings.Contains(got, upgradeMarker) {
		t.Errorf("the unedited %s was not upgraded", collector.config)
	}
	checkInstalled(t)
	r.checkDropin(t, dropin, gid < lo || gid > hi, fmt.Sprintf("after upgrade, host range %q", hostRange))

	// What the services leave behind, to see what removal and purge keep.
	r.write(t, agent.state+"/credential.json", "{}\n", 0o600)
	r.write(t, collector.state+"/probity.db", "evidence\n", 0o600)
	for _, f := range []string{agent.state + "/credential.json", collector.state + "/probity.db"} {
		if err := os.Chown(r.path(f), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	r.write(t, "/tmp/ping_group_range", "1 0\n", 0o644)
	r.run(t, "env", "PROBITY_PING_GROUP_RANGE_FILE=/tmp/ping_group_range", "dpkg-reconfigure", "probity-agent")
	r.checkDropin(t, dropin, true, "before removal")

	// Remove: binaries and units go, configuration, drop-in and data stay,
	// the units are masked (debhelper's way), so nothing starts.
	r.run(t, "dpkg", "-r", "probity-agent", "probity-collector")
	for _, p := range []pkg{agent, collector} {
		if v := r.run(t, "dpkg-query", "-W", "-f=${db:Status-Abbrev}", p.name); v != "rc " {
			t.Errorf("%s after remove: status %q, want rc", p.name, v)
		}
		r.checkAbsent(t, "/usr/bin/"+p.name, "/usr/lib/systemd/system/"+p.unit)
		r.checkOwner(t, p.config, 0, gid, 0o640)
		if got := strings.TrimSpace(r.tryOut("systemctl", "is-enabled", p.unit)); got != "masked" {
			t.Errorf("%s after remove: is-enabled %q, want masked", p.unit, got)
		}
	}
	r.checkDropin(t, dropin, true, "after remove")
	r.checkOwner(t, agent.state+"/credential.json", uid, gid, 0o600)
	r.checkOwner(t, collector.state+"/probity.db", uid, gid, 0o600)

	// Purge the agent: its config, drop-in, enablement and state go; the
	// collector's (still in config-files state) stay.
	r.run(t, "dpkg", "-P", "probity-agent")
	r.checkAbsent(t, agent.config, agent.config+".dpkg-dist", agent.state,
		"/etc/systemd/system/probity-agent.service.d", "/etc/systemd/system/"+agent.unit,
		"/etc/systemd/system/multi-user.target.wants/"+agent.unit)
	r.checkOwner(t, collector.config, 0, gid, 0o640)
	r.checkOwner(t, "/var/lib/probity", uid, gid, 0o750)

	// Purge the collector: config and /etc/probity go, the evidence stays.
	out := r.run(t, "dpkg", "-P", "probity-collector")
	if !strings.Contains(out, "kept "+collector.state) {
		t.Errorf("purge did not say it kept %s:\n%s", collector.state, out)
	}
	r.checkAbsent(t, collector.config, "/etc/probity", "/etc/systemd/system/"+collector.unit,
		"/etc/systemd/system/multi-user.target.wants/"+collector.unit)
	r.checkOwner(t, collector.state+"/probity.db", uid, gid, 0o600)
	if got := r.read(t, collector.state+"/probity.db"); got != "evidence\n" {
		t.Errorf("the collector's data changed: %q", got)
	}
	if got := r.tryOut("dpkg-statoverride", "--list"); strings.Contains(got, "probity") {
		t.Errorf("statoverrides left after purge:\n%s", got)
	}
	if left, _ := filepath.Glob(r.path("/var/lib/systemd/deb-systemd-helper-*/*probity*")); len(left) > 0 {
		t.Errorf("deb-systemd-helper state left after purge: %v", left)
	}
	if left, _ := filepath.Glob(r.path("/var/lib/dpkg/info/probity-*")); len(left) > 0 {
		t.Errorf("dpkg still knows files of: %v", left)
	}
	// The user stays: it owns the kept data (Debian never removes system users).
	r.run(t, "getent", "passwd", "probity")
}

// upgradeMarker is appended to both configs of the upgrade packages.
const upgradeMarker = "# probity package test: the upgrade's conffile"

// buildUpgrade builds amd64 packages of version with scripts/package.sh
// from the binaries inside the given packages and configs that differ from
// configs/ by upgradeMarker.
func buildUpgrade(t *testing.T, agentDeb, collectorDeb deb, version string) (string, string) {
	t.Helper()
	testenv.RequireBinary(t, "go") // package.sh builds the pinned nfpm
	dist, configs, out := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []deb{agentDeb, collectorDeb} {
		bin := tarEntries(t, "--fsys-tarfile", d.path)["/usr/bin/"+d.name].data
		if err := os.WriteFile(filepath.Join(dist, d.name+"-linux-amd64"), bin, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"agent.yaml", "collector.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "configs", c))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(configs, c), append(b, "\n"+upgradeMarker+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", filepath.Join("..", "scripts", "package.sh"))
	cmd.Env = append(os.Environ(), "VERSION="+version, "DIST="+dist, "OUT="+out, "CONFIGS="+configs, "ARCHES=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, b)
	}
	return filepath.Join(out, "probity-agent_"+version+"_amd64.deb"), filepath.Join(out, "probity-collector_"+version+"_amd64.deb")
}

// chroot is a fresh Debian 12 root in a temporary directory.
type chroot struct{ root string }

const rootfsName = "debian-bookworm-minbase-systemd.tar"

// newChroot unpacks the cached Debian root (built by scripts/setup-test.sh
// with testdata/mkrootfs.sh: tests reach no mirror themselves) and mounts
// /proc in it until the test ends.
func newChroot(t *testing.T) *chroot {
	t.Helper()
	for _, b := range []string{"chroot", "tar", "mount", "umount"} {
		testenv.RequireBinary(t, b)
	}
	cache := filepath.Join(testenv.CacheDir(), rootfsName)
	if _, err := os.Stat(cache); err != nil {
		testenv.Unavailable(t, "no Debian root at %s: run scripts/setup-test.sh (it builds one with deploy/testdata/mkrootfs.sh)", cache)
	}
	root := t.TempDir()
	if out, err := exec.Command("tar", "--numeric-owner", "-xpf", cache, "-C", root).CombinedOutput(); err != nil {
		t.Fatalf("unpacking %s: %v\n%s", cache, err, out)
	}
	proc := filepath.Join(root, "proc")
	if out, err := exec.Command("mount", "-t", "proc", "proc", proc).CombinedOutput(); err != nil {
		t.Fatalf("mount proc: %v\n%s", err, out)
	}
	// Registered after t.TempDir, so it runs before the directory goes.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", proc).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s; detaching it", proc, err, out)
			_ = exec.Command("umount", "-l", proc).Run()
		}
	})
	return &chroot{root: root}
}

func (c *chroot) path(p string) string { return filepath.Join(c.root, p) }

func (c *chroot) command(args ...string) *exec.Cmd {
	a := append([]string{c.root, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C.UTF-8", "DEBIAN_FRONTEND=noninteractive", "HOME=/root"}, args...)
	return exec.Command("chroot", a...)
}

// try runs a command in the root and returns its combined output.
func (c *chroot) try(args ...string) (string, error) {
	out, err := c.command(args...).CombinedOutput()
	return string(out), err
}

// tryOut runs a command in the root and returns its standard output,
// whatever its exit status.
func (c *chroot) tryOut(args ...string) string {
	out, _ := c.command(args...).Output()
	return string(out)
}

func (c *chroot) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.try(args...)
	if err != nil {
		t.Fatalf("in the root: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *chroot) read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(c.path(p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// write replaces p in the root, keeping an existing file's owner.
func (c *chroot) write(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(c.path(p), []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(c.path(p), mode); err != nil {
		t.Fatal(err)
	}
}

func (c *chroot) copyIn(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	c.write(t, dst, string(b), 0o644)
}

func (c *chroot) checkOwner(t *testing.T, p string, uid, gid int, mode os.FileMode) {
	t.Helper()
	st, err := os.Lstat(c.path(p))
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return
	}
	s := st.Sys().(*syscall.Stat_t)
	if int(s.Uid) != uid || int(s.Gid) != gid || st.Mode().Perm() != mode.Perm() {
		t.Errorf("%s: %d:%d %04o, want %d:%d %04o", p, s.Uid, s.Gid, st.Mode().Perm(), uid, gid, mode.Perm())
	}
}

func (c *chroot) checkAbsent(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(c.path(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists (%v)", p, err)
		}
	}
}

// checkEnabled: the multi-user.target.wants link to the packaged unit, and
// systemctl (offline in the chroot) agreeing.
func (c *chroot) checkEnabled(t *testing.T, unit string) {
	t.Helper()
	link := "/etc/systemd/system/multi-user.target.wants/" + unit
	target, err := os.Readlink(c.path(link))
	if err != nil {
		t.Errorf("%s not enabled: %v", unit, err)
		return
	}
	if target != "/lib/systemd/system/"+unit && target != "/usr/lib/systemd/system/"+unit {
		t.Errorf("%s -> %s", link, target)
	}
	if _, err := os.Stat(c.path(target)); err != nil {
		t.Errorf("%s -> %s: %v", link, target, err)
	}
	if got := strings.TrimSpace(c.tryOut("systemctl", "is-enabled", unit)); got != "enabled" {
		t.Errorf("systemctl is-enabled %s: %q", unit, got)
	}
}

// checkDropin checks the ICMP drop-in is there (with exactly CAP_NET_RAW)
// or not, and its directory gone with it.
func (c *chroot) checkDropin(t *testing.T, dropin string, want bool, why string) {
	t.Helper()
	b, err := os.ReadFile(c.path(dropin))
	switch {
	case want && err != nil:
		t.Errorf("%s: no ICMP drop-in: %v", why, err)
	case want:
		var keys []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
				keys = append(keys, l)
			}
		}
		if w := []string{"[Service]", "AmbientCapabilities=CAP_NET_RAW", "CapabilityBoundingSet=CAP_NET_RAW"}; !slices.Equal(keys, w) {
			t.Errorf("%s: drop-in %q, want %q", why, keys, w)
		}
		c.checkOwner(t, dropin, 0, 0, 0o644)
	case err == nil:
		t.Errorf("%s: ICMP drop-in present:\n%s", why, b)
	default:
		c.checkAbsent(t, filepath.Dir(dropin))
	}
}

// verify runs systemd-analyze verify in the root and wants no output.
func (c *chroot) verify(t *testing.T, unit string) {
	t.Helper()
	out, err := c.try("systemd-analyze", "verify", unit)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
}

// TestUnitHardening parses both unit files and checks each setting the
// packages promise (deploy/README.md).
func TestUnitHardening(t *testing.T) {
	common := map[string]string{
		"Service.User": "probity", "Service.Group": "probity", "Service.Type": "simple",
		"Service.Restart": "on-failure", "Service.NoNewPrivileges": "yes",
		"Service.ProtectSystem": "strict", "Service.ProtectHome": "yes", "Service.PrivateTmp": "yes",
		"Service.PrivateDevices": "yes", "Service.ProtectKernelTunables": "yes",
		"Service.ProtectKernelModules": "yes", "Service.ProtectKernelLogs": "yes",
		"Service.ProtectControlGroups": "yes", "Service.ProtectClock": "yes",
		"Service.ProtectHostname": "yes", "Service.RestrictSUIDSGID": "yes",
		"Service.RestrictNamespaces": "yes", "Service.RestrictRealtime": "yes",
		"Service.LockPersonality": "yes", "Service.MemoryDenyWriteExecute": "yes",
		"Service.SystemCallArchitectures": "native", "Service.SystemCallFilter": "@system-service",
		"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
		"Service.CapabilityBoundingSet":   "", "Service.AmbientCapabilities": "",
		"Service.StateDirectoryMode": "0750", "Service.ReadOnlyPaths": "/etc/probity",
		"Service.UMask": "0027", "Unit.After": "network-online.target",
		"Unit.Wants": "network-online.target", "Install.WantedBy": "multi-user.target",
	}
	for _, p := range packages {
		t.Run(p.unit, func(t *testing.T) {
			u := parseUnit(t, filepath.Join("systemd", p.unit))
			want := map[string]string{
				"Service.ExecStart":      "/usr/bin/" + p.name + map[string]string{"agent": " run", "collector": " serve"}[p.short] + " --config " + p.config,
				"Service.StateDirectory": "probity/" + p.short,
			}
			if p.short == "agent" {
				want["Unit.ConditionPathExists"] = p.state + "/credential.json"
			}
			for k, v := range common {
				want[k] = v
			}
			for k, v := range want {
				if got, ok := u[k]; !ok || len(got) != 1 || got[0] != v {
					t.Errorf("%s=%q, want exactly one %s=%q", k, got, k, v)
				}
			}
			for k := range u {
				if strings.HasPrefix(k, "Service.Capabilit") || strings.HasPrefix(k, "Service.AmbientCap") ||
					k == "Service.ReadWritePaths" || k == "Service.DynamicUser" {
					if _, ok := want[k]; !ok {
						t.Errorf("unexpected %s=%q", k, u[k])
					}
				}
			}
		})
	}
}

// parseUnit reads a systemd unit file into "Section.Key" -> values, in
// order (a key may repeat).
func parseUnit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = l[1 : len(l)-1]
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || section == "" || strings.HasSuffix(l, `\`) {
				t.Fatalf("%s:%d: cannot parse %q", path, n, l)
			}
			key := section + "." + strings.TrimSpace(k)
			u[key] = append(u[key], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPackageVersion checks package.sh's Debian versions from git describe
// output, and that dpkg orders them as releases should be.
func TestPackageVersion(t *testing.T) {
	testenv.RequireBinary(t, "bash")
	version := func(t *testing.T, v string) string {
		t.Helper()
		cmd := exec.Command("bash", filepath.Join("..", "scripts", "package.sh"), "--print-version")
		cmd.Env = append(os.Environ(), "VERSION="+v)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("package.sh --print-version with VERSION=%q: %v: %s", v, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for in, want := range map[string]string{
		"v1.2.3":                   "1.2.3",
		"1.2.3":                    "1.2.3",
		"v1.2.3-rc1":               "1.2.3~rc1",
		"v1.2.3-4-gabc1234":        "1.2.3+git4.gabc1234",
		"v1.2.3-4-gabc1234-dirty":  "1.2.3+git4.gabc1234+dirty",
		"v1.2.3-dirty":             "1.2.3+dirty",
		"abc1234":                  "0.0.0~gitabc1234",
		"874268d":                  "0.0.0~git874268d", // a hash that starts with a digit
		"874268d-dirty":            "0.0.0~git874268d+dirty",
		"20261204":                 "20261204",
		"v2.0.0-beta.1-3-g0123abc": "2.0.0~beta.1+git3.g0123abc",
	} {
		if got := version(t, in); got != want {
			t.Errorf("VERSION=%q: %q, want %q", in, got, want)
		}
	}
	if got := version(t, "dev"); !regexp.MustCompile(`^0\.0\.0~git[0-9a-f]{4,}$`).MatchString(got) {
		t.Errorf("VERSION=dev: %q, want 0.0.0~git<short hash>", got)
	}
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Logf("dpkg not installed: ordering not checked")
		return
	}
	order := []string{"0.0.0~gitabc1234", "0.0.0~gitabc1234+dirty", "1.2.3~rc1", "1.2.3", "1.2.3+dirty", "1.2.3+git4.gabc1234", "1.2.3+git4.gabc1234+dirty", "1.2.4"}
	for i := 1; i < len(order); i++ {
		if err := exec.Command("dpkg", "--compare-versions", order[i-1], "lt", order[i]).Run(); err != nil {
			t.Errorf("dpkg does not order %s before %s", order[i-1], order[i])
		}
	}
}
