package cyber

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/cyber/firmware"
	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/agent/snmp/profile"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/yamlpath"
)

// FirmwareConfig is the `firmware` section: devices polled over SNMP with
// the snmp probe's credentials, and the trust's own minimums.
type FirmwareConfig struct {
	// Devices as the snmp probe takes them (name, address, version,
	// community or v3 user settings).
	Devices []snmp.Target `yaml:"devices"`
	// MinimumsDir is a folder of minimums files (*.yaml); a file there
	// replaces the shipped file of the same name, others are added.
	MinimumsDir string `yaml:"minimums_dir,omitempty"`
}

func (c *FirmwareConfig) validate() error {
	var errs []error
	if len(c.Devices) == 0 {
		errs = append(errs, cfgerr.Errorf("devices", "at least one device is required"))
	}
	seen := map[string]int{}
	for i, d := range c.Devices {
		base := fmt.Sprintf("devices[%d]", i)
		errs = append(errs, cfgerr.Prefix(base, d.WithDefaults().Validate()))
		if j, dup := seen[d.Name]; dup && d.Name != "" {
			errs = append(errs, cfgerr.Errorf(base+".name", "%q is already the name of devices[%d]", d.Name, j))
		} else {
			seen[d.Name] = i
		}
	}
	if c.MinimumsDir != "" {
		if st, err := os.Stat(c.MinimumsDir); err != nil || !st.IsDir() {
			errs = append(errs, cfgerr.Errorf("minimums_dir", "%q is not a readable folder", c.MinimumsDir))
		}
	}
	return errors.Join(errs...)
}

func (c *FirmwareConfig) build(probe.Deps) (checker, error) {
	m, err := LoadMinimums(c.MinimumsDir)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	set, err := profile.Shipped()
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	return &firmwareChecker{cfg: *c, minimums: m, profiles: set}, nil
}

// MinimumsFile is one vendor's minimum safe versions.
type MinimumsFile struct {
	Vendor string `yaml:"vendor"`
	// SysObjectID limits the file to devices whose sysObjectID starts with
	// one of these (the vendor's enterprise number); empty: any device.
	SysObjectID []string `yaml:"sys_object_id"`
	// VersionOID is a scalar holding the software version, read first.
	VersionOID string `yaml:"version_oid"`
	// VersionRegex finds the version in sysDescr (its first group) when
	// neither VersionOID nor the chassis's entPhysicalSoftwareRev has one.
	VersionRegex string           `yaml:"version_regex"`
	Families     []FirmwareFamily `yaml:"families"`

	File    string         `yaml:"-"`
	version *regexp.Regexp `yaml:"-"`
}

// FirmwareFamily is a set of models sharing a minimum version.
type FirmwareFamily struct {
	Name    string `yaml:"name"`
	Match   string `yaml:"match"`   // regex on the model (entPhysicalModelName) or sysDescr
	Minimum string `yaml:"minimum"` // lowest safe version
	// Trains are minimums per release train ("7.2": "7.2.7"): a vendor
	// fixes several trains at once, and a device on an older train with
	// its train's fix is safe. A version on a train not listed is judged
	// against Minimum.
	Trains map[string]string `yaml:"trains,omitempty"`
	Source string            `yaml:"source"` // the advisory (URL)
	Note   string            `yaml:"note"`

	re *regexp.Regexp
}

// defaultVersionRegex finds "Version 1.2.3" in a sysDescr.
var defaultVersionRegex = regexp.MustCompile(`(?i)\bversion:?\s+v?([0-9][0-9A-Za-z.()_-]*[0-9A-Za-z)])`)

// ParseMinimums decodes and validates one minimums file; file names it in
// errors (file:line: key: problem).
func ParseMinimums(data []byte, file string) (*MinimumsFile, error) {
	p := &yamlpath.Report{File: file}
	var f MinimumsFile
	if err := yamlpath.DecodeStrict(data, p, &f, "minimums file"); err != nil {
		return nil, err
	}
	f.File = file
	if f.Vendor == "" {
		p.Add("vendor", "required")
	} else if f.Vendor != strings.ToLower(f.Vendor) {
		p.Add("vendor", "%q: write vendors in lower case", f.Vendor)
	}
	for i, o := range f.SysObjectID {
		if _, ok := profile.ParseOID(o); !ok {
			p.Add(fmt.Sprintf("sys_object_id[%d]", i), "%q is not a numeric OID", o)
		}
	}
	if f.VersionOID != "" {
		if _, ok := profile.ParseOID(f.VersionOID); !ok {
			p.Add("version_oid", "%q is not a numeric OID", f.VersionOID)
		}
	}
	f.version = defaultVersionRegex
	if f.VersionRegex != "" {
		re, err := regexp.Compile(f.VersionRegex)
		switch {
		case err != nil:
			p.Add("version_regex", "%v", err)
		case re.NumSubexp() < 1:
			p.Add("version_regex", "needs a group around the version")
		default:
			f.version = re
		}
	}
	if len(f.Families) == 0 {
		p.Add("families", "no families")
	}
	for i := range f.Families {
		fam := &f.Families[i]
		path := fmt.Sprintf("families[%d]", i)
		if fam.Match == "" {
			p.Add(path+".match", "required: a regex on the model or sysDescr")
		} else if re, err := regexp.Compile(fam.Match); err != nil {
			p.Add(path+".match", "%v", err)
		} else {
			fam.re = re
		}
		if fam.Minimum == "" {
			p.Add(path+".minimum", "required")
		} else if len(versionParts(fam.Minimum)) == 0 || !unicode.IsDigit(rune(normVersion(fam.Minimum)[0])) {
			p.Add(path+".minimum", "%q is not a version (digits with dots, e.g. 17.9.4a)", fam.Minimum)
		}
		for train, min := range fam.Trains {
			tp := versionParts(train)
			if len(tp) == 0 || CompareVersions(min, train) < 0 || !onTrain(min, train) {
				p.Add(path+".trains."+train, "%q must be a release train (such as 7.2) and %q a version on it", train, min)
			}
		}
		if !strings.HasPrefix(fam.Source, "https://") && !strings.HasPrefix(fam.Source, "http://") {
			p.Add(path+".source", "required: the URL of the advisory")
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Minimums are the loaded minimums files, in file name order.
type Minimums struct{ files []*MinimumsFile }

// Files returns the loaded files.
func (m *Minimums) Files() []*MinimumsFile { return m.files }

// LoadMinimums loads the shipped files, then *.yaml in dir (when not ""),
// which replace shipped files of the same name.
func LoadMinimums(dir string) (*Minimums, error) {
	byName := map[string]*MinimumsFile{}
	var errs []error
	shipped, err := fs.Glob(firmware.FS, "*.yaml")
	if err != nil {
		return nil, err
	}
	for _, name := range shipped {
		data, err := fs.ReadFile(firmware.FS, name)
		if err != nil {
			return nil, err
		}
		f, err := ParseMinimums(data, "firmware/"+name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		byName[name] = f
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("minimums folder: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
				continue
			}
			file := filepath.Join(dir, e.Name())
			data, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			f, err := ParseMinimums(data, file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			name := e.Name()
			if n, ok := strings.CutSuffix(name, ".yml"); ok {
				name = n + ".yaml" // cisco.yml replaces the shipped cisco.yaml too
			}
			byName[name] = f
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m := &Minimums{}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		m.files = append(m.files, byName[n])
	}
	return m, nil
}

// Identity is what a device says about itself.
type Identity struct {
	SysDescr, SysObjectID string
	Model                 string // chassis entPhysicalModelName
	Software              string // chassis entPhysicalSoftwareRev
	versionOID            map[string]string
}

// Lookup finds the first family (files in name order, families in file
// order) whose file applies to the device's sysObjectID and whose match
// finds the model or sysDescr.
func (m *Minimums) Lookup(id Identity) (*MinimumsFile, *FirmwareFamily, bool) {
	for _, f := range m.files {
		if len(f.SysObjectID) > 0 && !slices.ContainsFunc(f.SysObjectID, func(p string) bool { return profile.HasPrefix(id.SysObjectID, p) }) {
			continue
		}
		for i := range f.Families {
			fam := &f.Families[i]
			if (id.Model != "" && fam.re.MatchString(id.Model)) || fam.re.MatchString(id.SysDescr) {
				return f, fam, true
			}
		}
	}
	return nil, nil, false
}

// version picks the device's software version for f: its version_oid,
// then the chassis's entPhysicalSoftwareRev, then version_regex on
// sysDescr. from says which.
func (f *MinimumsFile) deviceVersion(id Identity) (v, from string) {
	if f.VersionOID != "" {
		if s := strings.TrimSpace(id.versionOID[f.VersionOID]); s != "" {
			return s, "version_oid"
		}
	}
	if s := strings.TrimSpace(id.Software); s != "" && len(versionParts(s)) > 0 {
		return s, "entPhysicalSoftwareRev"
	}
	if m := f.version.FindStringSubmatch(id.SysDescr); m != nil {
		return m[1], "sysDescr"
	}
	return "", ""
}

// normVersion drops a leading train or letter prefix ("v7.2.10",
// "WC.16.10.0012", "PL.10.13.1010") and anything after the first space or
// comma ("v7.2.10,build1706").
func normVersion(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " ,"); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexFunc(s, unicode.IsDigit); i > 0 {
		s = s[i:]
	}
	return s
}

// versionParts splits a version into runs of digits and of letters,
// dropping separators: "15.2(7)E8" is 15 2 7 E 8, "17.9.4a" is 17 9 4 a.
func versionParts(s string) []string {
	s = normVersion(s)
	var parts []string
	cur := ""
	kind := 0 // 1 digit, 2 letter
	for _, r := range s {
		k := 0
		switch {
		case unicode.IsDigit(r):
			k = 1
		case unicode.IsLetter(r):
			k = 2
		}
		if k != kind && cur != "" {
			parts = append(parts, cur)
			cur = ""
		}
		kind = k
		if k != 0 {
			cur += string(r)
		}
	}
	if cur != "" {
		parts = append(parts, cur)
	}
	return parts
}

// CompareVersions orders two firmware versions: negative when a is older
// than b, 0 when equal, positive when newer. Numbers compare as numbers
// (05 = 5, 10 > 9), letters case-insensitively; a version with more parts
// is newer (17.9.4a after 17.9.4), and a number is newer than letters in
// the same place (a release after its lettered rebuilds' train).
func CompareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, y := pa[i], pb[i]
		xn, xerr := strconv.ParseUint(x, 10, 64)
		yn, yerr := strconv.ParseUint(y, 10, 64)
		switch {
		case xerr == nil && yerr == nil:
			if xn != yn {
				if xn < yn {
					return -1
				}
				return 1
			}
		case xerr == nil:
			return 1
		case yerr == nil:
			return -1
		default:
			if c := strings.Compare(strings.ToLower(x), strings.ToLower(y)); c != 0 {
				return c
			}
		}
	}
	return len(pa) - len(pb)
}

type firmwareChecker struct {
	cfg      FirmwareConfig
	minimums *Minimums
	profiles *profile.Set
}

const (
	oidSysObjectID    = "1.3.6.1.2.1.1.2.0"
	oidEntClass       = "1.3.6.1.2.1.47.1.1.1.1.5"
	oidEntSoftwareRev = "1.3.6.1.2.1.47.1.1.1.1.10"
	oidEntModelName   = "1.3.6.1.2.1.47.1.1.1.1.13"
	entClassChassis   = 3
)

func (fc *firmwareChecker) run(ctx context.Context, e *env) []Result {
	out := make([]Result, len(fc.cfg.Devices))
	var wg sync.WaitGroup
	for i, d := range fc.cfg.Devices {
		wg.Go(func() { out[i] = fc.device(ctx, d) })
	}
	wg.Wait()
	return out
}

func (fc *firmwareChecker) device(ctx context.Context, t snmp.Target) Result {
	r := Result{Check: CheckFirmware, Target: t.Name, Fields: map[string]any{"address": t.Address}}
	id, err := fc.identify(ctx, t)
	if err != nil {
		r.Detail = "could not read the device over SNMP: " + err.Error()
		r.Fields["reason"] = snmp.Reason(err)
		return r
	}
	r.OK = true
	if p := fc.profiles.Match(id.SysObjectID, id.SysDescr); p != nil && p.Vendor != "" {
		r.Fields["vendor"] = p.Vendor
	}
	if id.Model != "" {
		r.Fields["model"] = id.Model
	}
	f, fam, ok := fc.minimums.Lookup(id)
	if !ok {
		r.Detail = "no minimum known for this model"
		if v, _ := (&MinimumsFile{version: defaultVersionRegex}).deviceVersion(id); v != "" {
			r.Fields["version"] = v
		}
		return r
	}
	r.Fields["vendor"] = f.Vendor
	r.Fields["family"] = fam.Name
	r.Fields["source"] = fam.Source
	v, from := f.deviceVersion(id)
	if v == "" {
		r.Fields["minimum"] = fam.Minimum
		r.Detail = fmt.Sprintf("matches %s (minimum %s) but reports no software version it can be judged by", familyName(f, fam), fam.Minimum)
		return r
	}
	minimum := fam.minimumFor(v)
	r.Fields["minimum"] = minimum
	r.Fields["version"] = v
	r.Fields["version_from"] = from
	if CompareVersions(v, minimum) < 0 {
		r.Finding, r.Severity = true, SeverityHigh
		r.Detail = fmt.Sprintf("runs %s, below the minimum safe version %s for %s", v, minimum, familyName(f, fam))
		r.Fix = fmt.Sprintf("upgrade to at least %s; see %s", minimum, fam.Source)
		return r
	}
	r.Detail = fmt.Sprintf("runs %s, at or above the minimum safe version %s for %s", v, minimum, familyName(f, fam))
	return r
}

// minimumFor is the minimum for version v: its release train's when the
// family lists one (the longest train that v is on), else Minimum.
func (fam *FirmwareFamily) minimumFor(v string) string {
	best, bestLen := fam.Minimum, 0
	for train, min := range fam.Trains {
		if n := len(versionParts(train)); n > bestLen && onTrain(v, train) {
			best, bestLen = min, n
		}
	}
	return best
}

// onTrain says whether version v is on release train t: its first parts
// equal t's ("17.09.03" is on "17.9").
func onTrain(v, t string) bool {
	pv, pt := versionParts(v), versionParts(t)
	if len(pv) < len(pt) {
		return false
	}
	return CompareVersions(strings.Join(pv[:len(pt)], "."), strings.Join(pt, ".")) == 0
}

func familyName(f *MinimumsFile, fam *FirmwareFamily) string {
	if fam.Name != "" {
		return fam.Name
	}
	return f.Vendor + " " + fam.Match
}

// identify reads sysDescr, sysObjectID, the chassis row of ENTITY-MIB
// (model and software, as snmp_device's model tag) and every version_oid
// the minimums name. Only sysDescr is required.
func (fc *firmwareChecker) identify(ctx context.Context, t snmp.Target) (Identity, error) {
	t = t.WithDefaults()
	ctx, cancel := context.WithTimeout(ctx, t.Budget)
	defer cancel()
	c, err := snmp.NewClient(t)
	if err != nil {
		return Identity{}, err
	}
	defer c.Close()
	oids := []string{oidSysDescr, oidSysObjectID}
	for _, f := range fc.minimums.files {
		if f.VersionOID != "" && !slices.Contains(oids, f.VersionOID) {
			oids = append(oids, f.VersionOID)
		}
	}
	vals, err := c.Get(ctx, oids)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{versionOID: map[string]string{}}
	for oid, v := range vals {
		if v.Missing() {
			continue
		}
		switch strings.TrimPrefix(oid, ".") {
		case oidSysDescr:
			id.SysDescr = v.String()
		case oidSysObjectID:
			id.SysObjectID = strings.TrimPrefix(v.String(), ".")
		default:
			id.versionOID[strings.TrimPrefix(oid, ".")] = v.String()
		}
	}
	if id.SysDescr == "" {
		return Identity{}, errors.New("the device has no sysDescr")
	}
	// A device without ENTITY-MIB is judged on sysDescr alone.
	cols, _ := c.Columns(ctx, []string{oidEntClass, oidEntSoftwareRev, oidEntModelName})
	chassis := ""
	for idx, v := range cols["."+oidEntClass] {
		if n, ok := v.Int64(); ok && n == entClassChassis && (chassis == "" || lessIndex(idx, chassis)) {
			chassis = idx
		}
	}
	if chassis != "" {
		id.Model = strings.TrimSpace(cols["."+oidEntModelName][chassis].String())
		id.Software = strings.TrimSpace(cols["."+oidEntSoftwareRev][chassis].String())
	}
	return id, nil
}

// lessIndex orders single-number row indexes numerically (the first
// chassis of a stack is the lowest).
func lessIndex(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA != nil || errB != nil {
		return a < b
	}
	return x < y
}
