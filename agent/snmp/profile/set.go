package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/probity-edu/probity/agent/snmp/profiles"
)

// Generic is the profile every device falls back to.
const Generic = "generic"

// Set is a validated collection of profiles with extends resolved.
type Set struct {
	byName   map[string]*Profile
	resolved map[string][]Read
}

// isEOSFile reports whether a file in a profile folder holds end-of-support
// data rather than a profile.
func isEOSFile(name string) bool {
	return name == "eos.yaml" || strings.HasSuffix(name, ".eos.yaml")
}

func isYAML(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// Shipped loads the embedded profiles.
func Shipped() (*Set, error) { return LoadSet("") }

// LoadSet loads the embedded profiles, then the profiles in dir (when not
// ""): a profile there with a shipped profile's name replaces it, a new
// name is added. Every problem in every file is reported.
func LoadSet(dir string) (*Set, error) {
	var errs []error
	byName := map[string]*Profile{}
	load := func(fsys fs.FS, label string, replace bool) {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			errs = append(errs, fmt.Errorf("profiles %s: %w", label, err))
			return
		}
		for _, e := range entries {
			if e.IsDir() || !isYAML(e.Name()) || isEOSFile(e.Name()) {
				continue
			}
			file := filepath.Join(label, e.Name())
			data, err := fs.ReadFile(fsys, e.Name())
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", file, err))
				continue
			}
			p, err := Parse(data, file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if prev, dup := byName[p.Name]; dup && !(replace && !strings.HasPrefix(prev.File, label+string(filepath.Separator))) {
				errs = append(errs, &Error{File: file, Key: "name", Msg: fmt.Sprintf("profile %q is also defined in %s", p.Name, prev.File)})
				continue
			}
			byName[p.Name] = p
		}
	}
	load(profiles.FS, "profiles", false)
	if dir != "" {
		load(os.DirFS(dir), dir, true)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	list := make([]*Profile, 0, len(byName))
	for _, p := range byName {
		list = append(list, p)
	}
	return NewSet(list)
}

// NewSet checks references between profiles (extends targets exist, no
// cycles, a generic profile exists, no two profiles with the same match
// rule) and resolves extends.
func NewSet(list []*Profile) (*Set, error) {
	s := &Set{byName: map[string]*Profile{}, resolved: map[string][]Read{}}
	var errs []error
	for _, p := range list {
		if prev, dup := s.byName[p.Name]; dup {
			errs = append(errs, &Error{File: p.File, Key: "name", Msg: fmt.Sprintf("profile %q is also defined in %s", p.Name, prev.File)})
			continue
		}
		s.byName[p.Name] = p
	}
	if _, ok := s.byName[Generic]; !ok {
		errs = append(errs, errors.New("profiles: no profile named generic, which every device falls back to"))
	}
	rules := map[string]string{}
	for _, name := range s.Names() {
		p := s.byName[name]
		for i, e := range p.Extends {
			if _, ok := s.byName[e]; !ok {
				errs = append(errs, &Error{File: p.File, Key: fmt.Sprintf("extends[%d]", i), Msg: fmt.Sprintf("no profile named %q", e)})
			}
		}
		for i, r := range p.Match {
			k := strings.TrimPrefix(r.SysObjectID, ".") + "|" + r.SysDescr
			if other, dup := rules[k]; dup {
				errs = append(errs, &Error{File: p.File, Key: fmt.Sprintf("match[%d]", i), Msg: fmt.Sprintf("the same rule is in profile %q: a device would match both", other)})
			}
			rules[k] = p.Name
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, name := range s.Names() {
		reads, err := s.resolve(name, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.resolved[name] = reads
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// resolve flattens extends depth first: the parents' reads in the order
// extends lists them, then the profile's own; a read whose name is already
// there replaces it in place.
func (s *Set) resolve(name string, stack []string) ([]Read, error) {
	if i := slices.Index(stack, name); i >= 0 {
		p := s.byName[stack[len(stack)-1]]
		return nil, &Error{File: p.File, Key: "extends", Msg: "extends cycle: " + strings.Join(append(stack[i:], name), " → ")}
	}
	p := s.byName[name]
	stack = append(stack, name)
	var out []Read
	put := func(r Read) {
		for i := range out {
			if out[i].Name == r.Name {
				out[i] = r
				return
			}
		}
		out = append(out, r)
	}
	for _, e := range p.Extends {
		parent, err := s.resolve(e, stack)
		if err != nil {
			return nil, err
		}
		for _, r := range parent {
			put(r)
		}
	}
	for _, r := range p.Reads {
		put(r)
	}
	return out, nil
}

// Names returns the profile names, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.byName))
	for n := range s.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns the named profile, or nil.
func (s *Set) Get(name string) *Profile { return s.byName[name] }

// Reads returns the named profile's reads with extends resolved, or nil.
// Callers must not modify them.
func (s *Set) Reads(name string) []Read { return s.resolved[name] }

// Match picks the profile for a device: of the rules that match, the one
// with the longest sysObjectID prefix wins, a rule that also checks
// sysDescr winning a tie. No match gives generic.
func (s *Set) Match(sysObjectID, sysDescr string) *Profile {
	var best *Profile
	bestArcs, bestDescr := -1, false
	for _, name := range s.Names() { // sorted, so ties between profiles are stable
		p := s.byName[name]
		for _, r := range p.Match {
			arcs := 0
			if r.SysObjectID != "" {
				if !HasPrefix(sysObjectID, r.SysObjectID) {
					continue
				}
				arcs = strings.Count(strings.TrimPrefix(r.SysObjectID, "."), ".") + 1
			}
			if r.re != nil && !r.re.MatchString(sysDescr) {
				continue
			}
			descr := r.re != nil
			if arcs > bestArcs || (arcs == bestArcs && descr && !bestDescr) {
				best, bestArcs, bestDescr = p, arcs, descr
			}
		}
	}
	if best == nil {
		return s.byName[Generic]
	}
	return best
}
