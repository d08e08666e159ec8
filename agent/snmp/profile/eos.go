package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/probity-edu/probity/agent/snmp/profiles"
	"github.com/probity-edu/probity/internal/yamlpath"
)

// EOSEntry is one end-of-support date for a vendor's model or models.
type EOSEntry struct {
	Vendor      string `yaml:"vendor"`       // as in a profile's vendor: cisco, aruba, hpe …
	Model       string `yaml:"model"`        // an exact model (entPhysicalModelName), or
	ModelPrefix string `yaml:"model_prefix"` // every model starting with this
	// EndOfSupport is the vendor's last date of support (YYYY-MM-DD): no
	// more security fixes or hardware replacement after it.
	EndOfSupport string `yaml:"end_of_support"`
	Source       string `yaml:"source"` // the vendor's notice (URL)
	Note         string `yaml:"note"`

	Date time.Time `yaml:"-"`
	File string    `yaml:"-"`
}

type eosFile struct {
	Entries []EOSEntry `yaml:"entries"`
}

// EOS is the end-of-support table.
type EOS struct {
	entries []EOSEntry
}

// EOS status values for a device.
const (
	EOSUnknown   = "unknown"   // no entry for the model
	EOSSupported = "supported" // the date is further away than the warning period
	EOSNear      = "near"      // within the warning period
	EOSPast      = "past"      // the date has passed
)

// ParseEOS decodes and validates one end-of-support file.
func ParseEOS(data []byte, file string) ([]EOSEntry, error) {
	p := &problems{File: file}
	var f eosFile
	if err := yamlpath.DecodeStrict(data, p, &f, "end-of-support file"); err != nil {
		return nil, err
	}
	if len(f.Entries) == 0 {
		p.Add("entries", "no entries")
	}
	seen := map[string]int{}
	for i := range f.Entries {
		e := &f.Entries[i]
		path := fmt.Sprintf("entries[%d]", i)
		e.File = file
		if e.Vendor == "" {
			p.Add(path+".vendor", "required")
		} else if e.Vendor != strings.ToLower(e.Vendor) {
			p.Add(path+".vendor", "%q: write vendors in lower case", e.Vendor)
		}
		switch {
		case e.Model == "" && e.ModelPrefix == "":
			p.Add(path, "needs model or model_prefix")
		case e.Model != "" && e.ModelPrefix != "":
			p.Add(path, "has both model and model_prefix")
		}
		if d, err := time.Parse(time.DateOnly, e.EndOfSupport); err != nil {
			p.Add(path+".end_of_support", "%q is not a date (YYYY-MM-DD)", e.EndOfSupport)
		} else {
			e.Date = d
		}
		if !strings.HasPrefix(e.Source, "https://") && !strings.HasPrefix(e.Source, "http://") {
			p.Add(path+".source", "required: the URL of the vendor's notice")
		}
		k := e.key()
		if first, dup := seen[k]; dup {
			p.Add(path, "duplicate of entries[%d] (line %d)", first, yamlpath.LineOf(p.Root, fmt.Sprintf("entries[%d]", first)))
		} else {
			seen[k] = i
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return f.Entries, nil
}

func (e EOSEntry) key() string {
	if e.ModelPrefix != "" {
		return e.Vendor + "|prefix|" + strings.ToLower(e.ModelPrefix)
	}
	return e.Vendor + "|model|" + strings.ToLower(e.Model)
}

// ShippedEOS loads the embedded eos.yaml.
func ShippedEOS() (*EOS, error) { return LoadEOS("") }

// LoadEOS loads the embedded eos.yaml, then eos.yaml and *.eos.yaml in dir
// (when not ""): an entry there for the same vendor and model (or prefix)
// replaces the shipped one, others are added.
func LoadEOS(dir string) (*EOS, error) {
	data, err := fs.ReadFile(profiles.FS, "eos.yaml")
	if err != nil {
		return nil, err
	}
	shipped, err := ParseEOS(data, "profiles/eos.yaml")
	if err != nil {
		return nil, err
	}
	byKey := map[string]int{}
	t := &EOS{}
	for _, e := range shipped {
		byKey[e.key()] = len(t.entries)
		t.entries = append(t.entries, e)
	}
	if dir == "" {
		return t, nil
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("end-of-support folder: %w", err)
	}
	var errs []error
	local := map[string]string{}
	for _, f := range files {
		if f.IsDir() || !isEOSFile(f.Name()) {
			continue
		}
		file := filepath.Join(dir, f.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		entries, err := ParseEOS(data, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			k := e.key()
			if other, dup := local[k]; dup {
				errs = append(errs, &Error{File: file, Msg: fmt.Sprintf("%s %s%s is also in %s", e.Vendor, e.Model, e.ModelPrefix, other)})
				continue
			}
			local[k] = file
			if i, ok := byKey[k]; ok {
				t.entries[i] = e
				continue
			}
			byKey[k] = len(t.entries)
			t.entries = append(t.entries, e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// Lookup finds the entry for vendor and model: an exact model first, then
// the longest model prefix. Comparisons ignore case.
func (t *EOS) Lookup(vendor, model string) (EOSEntry, bool) {
	vendor, m := strings.ToLower(vendor), strings.ToLower(strings.TrimSpace(model))
	var best EOSEntry
	found := false
	for _, e := range t.entries {
		if e.Vendor != vendor {
			continue
		}
		if e.Model != "" && strings.ToLower(e.Model) == m {
			return e, true
		}
		if p := strings.ToLower(e.ModelPrefix); p != "" && strings.HasPrefix(m, p) && len(p) > len(best.ModelPrefix) {
			best, found = e, true
		}
	}
	return best, found
}

// Status says where a device stands on now: past its end of support, near
// it (within warn), supported, or unknown when there is no entry.
func (t *EOS) Status(vendor, model string, now time.Time, warn time.Duration) (string, EOSEntry) {
	e, ok := t.Lookup(vendor, model)
	switch {
	case !ok:
		return EOSUnknown, e
	case !now.Before(e.Date):
		return EOSPast, e
	case now.Add(warn).After(e.Date):
		return EOSNear, e
	}
	return EOSSupported, e
}

// Entries returns every entry, shipped first. Callers must not modify them.
func (t *EOS) Entries() []EOSEntry { return t.entries }
