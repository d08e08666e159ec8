package profile

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/probity-edu/probity/internal/yamlpath"
)

var (
	profileName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	outputName  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	mibName     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
)

// Parse decodes and validates one profile file. file names it in errors.
// References to other profiles (extends) are checked by NewSet, which sees
// them all.
func Parse(data []byte, file string) (*Profile, error) {
	p := &problems{File: file}
	var prof Profile
	if err := yamlpath.DecodeStrict(data, p, &prof, "profile"); err != nil {
		return nil, err
	}
	prof.File = file
	validateProfile(&prof, p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &prof, nil
}

func validateProfile(prof *Profile, p *problems) {
	if prof.Name == "" {
		p.Add("name", "required")
	} else if !profileName.MatchString(prof.Name) {
		p.Add("name", "%q: use lower case letters, digits, - and _", prof.Name)
	}
	if prof.Description == "" {
		p.Add("description", "required: say which devices this profile is for")
	}
	for i := range prof.Match {
		r := &prof.Match[i]
		path := fmt.Sprintf("match[%d]", i)
		if r.SysObjectID == "" && r.SysDescr == "" {
			p.Add(path, "needs sys_object_id, sys_descr or both")
		}
		if r.SysObjectID != "" {
			if _, ok := ParseOID(r.SysObjectID); !ok {
				p.Add(path+".sys_object_id", "%q is not a numeric OID", r.SysObjectID)
			}
		}
		if r.SysDescr != "" {
			re, err := regexp.Compile(r.SysDescr)
			if err != nil {
				p.Add(path+".sys_descr", "not a regular expression: %v", err)
			}
			r.re = re
		}
	}
	for i, e := range prof.Extends {
		if e == prof.Name {
			p.Add(fmt.Sprintf("extends[%d]", i), "a profile cannot extend itself")
		}
	}
	if len(prof.Reads) == 0 && len(prof.Extends) == 0 {
		p.Add("reads", "a profile needs reads or extends")
	}
	names := map[string]int{}
	for i := range prof.Reads {
		path := fmt.Sprintf("reads[%d]", i)
		r := &prof.Reads[i]
		if first, dup := names[r.Name]; dup && r.Name != "" {
			p.Add(path+".name", "duplicate read %q (also reads[%d])", r.Name, first)
		} else {
			names[r.Name] = i
		}
		validateRead(r, path, p)
	}
}

// outputs tracks the field and tag names a read writes, to catch
// duplicates; it also remembers each field's type for derive.
type outputs struct {
	p      *problems
	names  map[string]string // name → path where first written
	fields map[string]string // field → type
	tags   int
}

func (o *outputs) add(name string, tag bool, typ, path string) {
	if name == "" {
		return
	}
	if !outputName.MatchString(name) {
		o.p.Add(path, "%q: use lower case letters, digits and _", name)
		return
	}
	if first, dup := o.names[name]; dup {
		o.p.Add(path, "%q is written twice (also at %s)", name, first)
		return
	}
	o.names[name] = path
	if tag {
		o.tags++
	} else {
		o.fields[name] = typ
	}
}

func validateRead(r *Read, path string, p *problems) {
	if r.Name == "" {
		p.Add(path+".name", "required")
	} else if !outputName.MatchString(r.Name) {
		p.Add(path+".name", "%q: use lower case letters, digits and _", r.Name)
	}
	if r.Measurement == "" {
		p.Add(path+".measurement", "required")
	} else if _, ok := Measurements[r.Measurement]; !ok {
		p.Add(path+".measurement", "unknown measurement %q", r.Measurement)
	}
	switch {
	case len(r.Scalars) == 0 && r.Table == nil:
		p.Add(path, "needs scalars or a table")
		return
	case len(r.Scalars) > 0 && r.Table != nil:
		p.Add(path, "has both scalars and a table: split it into two reads")
		return
	}
	out := &outputs{p: p, names: map[string]string{}, fields: map[string]string{}}
	for i := range r.Scalars {
		c := &r.Scalars[i]
		cp := fmt.Sprintf("%s.scalars[%d]", path, i)
		validateColumn(c, cp, p)
		if c.Aggregate != "" {
			p.Add(cp+".aggregate", "only table columns are aggregated")
		}
		name, tag := c.Output()
		out.add(name, tag, c.EffectiveType(), cp+outKey(tag))
	}
	if r.Table != nil {
		validateTable(r.Table, path+".table", out, p)
	}
}

func outKey(tag bool) string {
	if tag {
		return ".tag"
	}
	return ".field"
}

func validateOID(oid, path string, p *problems) bool {
	if oid == "" {
		p.Add(path, "required")
		return false
	}
	if _, ok := ParseOID(oid); !ok {
		p.Add(path, "%q is not a numeric OID (like 1.3.6.1.2.1.1.3.0)", oid)
		return false
	}
	return true
}

func validateMIBName(name, path string, p *problems) {
	if name == "" {
		p.Add(path, "required: the MIB object name, for people")
	} else if !mibName.MatchString(name) {
		p.Add(path, "%q is not a MIB object name", name)
	}
}

// validateValue checks type, enum, true, scale and label, common to columns
// and lookups.
func validateValue(typ string, tag bool, enum map[int]string, truth []int, scale float64, label bool, path string, p *problems) {
	switch {
	case typ == "":
		p.Add(path+".type", "required for a field: one of gauge, counter, string, enum, bool, timeticks, bits, mac, oid")
		return
	case !types[typ]:
		p.Add(path+".type", "unknown type %q", typ)
		return
	}
	if tag && (typ == TypeCounter || typ == TypeBool) {
		p.Add(path+".type", "a tag cannot be a %s", typ)
	}
	if (typ == TypeEnum || typ == TypeBits) && len(enum) == 0 {
		p.Add(path+".enum", "required for type %s", typ)
	}
	if len(enum) > 0 && typ != TypeEnum && typ != TypeBits {
		p.Add(path+".enum", "only for type enum or bits")
	}
	if typ == TypeBool && len(truth) == 0 {
		p.Add(path+".true", "required for type bool: the values that mean true")
	}
	if len(truth) > 0 && typ != TypeBool {
		p.Add(path+".true", "only for type bool")
	}
	if scale != 0 && !numeric[typ] {
		p.Add(path+".scale", "only numeric types (gauge, counter, timeticks) are scaled")
	}
	if label && typ == TypeCounter {
		p.Add(path+".label", "a counter is read every cycle, never a label")
	}
}

func validateColumn(c *Column, path string, p *problems) {
	validateOID(c.OID, path+".oid", p)
	validateMIBName(c.Name, path+".name", p)
	switch {
	case c.Field == "" && c.Tag == "":
		p.Add(path, "needs field or tag")
	case c.Field != "" && c.Tag != "":
		p.Add(path, "has both field and tag")
	}
	validateValue(c.EffectiveType(), c.Tag != "", c.Enum, c.True, c.Scale, c.Label, path, p)
	if c.Aggregate != "" {
		if !aggregates[c.Aggregate] {
			p.Add(path+".aggregate", "%q is not sum, avg, min or max", c.Aggregate)
		} else if c.Tag != "" || !numeric[c.EffectiveType()] {
			p.Add(path+".aggregate", "only numeric fields are aggregated")
		}
	}
	if f := c.Fallback; f != nil {
		validateOID(f.OID, path+".fallback.oid", p)
		validateMIBName(f.Name, path+".fallback.name", p)
		if f.Scale != 0 && !numeric[c.EffectiveType()] {
			p.Add(path+".fallback.scale", "only numeric types are scaled")
		}
	}
}

func validateTable(t *Table, path string, out *outputs, p *problems) {
	tableOK := validateOID(t.OID, path+".oid", p)
	validateMIBName(t.Name, path+".name", p)
	entries := []string{}
	if tableOK {
		entries = append(entries, t.OID)
	}
	for i, a := range t.Augments {
		ap := fmt.Sprintf("%s.augments[%d]", path, i)
		if validateOID(a.OID, ap+".oid", p) {
			entries = append(entries, a.OID)
		} else {
			tableOK = false
		}
		validateMIBName(a.Name, ap+".name", p)
	}
	if len(t.Index) == 0 {
		p.Add(path+".index", "required: the parts of the table's index")
	}
	keys := map[string]bool{}
	for i, ip := range t.Index {
		ipath := fmt.Sprintf("%s.index[%d]", path, i)
		if !outputName.MatchString(ip.Name) {
			p.Add(ipath+".name", "%q: use lower case letters, digits and _", ip.Name)
		} else if keys[ip.Name] {
			p.Add(ipath+".name", "duplicate index part %q", ip.Name)
		}
		keys[ip.Name] = true
		if !indexTypes[ip.EffectiveType()] {
			p.Add(ipath+".type", "unknown index type %q (integer, mac, ipv4, string, implied)", ip.Type)
		} else if ip.EffectiveType() == IndexImplied && i != len(t.Index)-1 {
			p.Add(ipath+".type", "implied must be the last index part")
		}
		out.add(ip.Tag, true, TypeString, ipath+".tag")
	}
	if len(t.Columns) == 0 {
		p.Add(path+".columns", "a table needs columns")
	}
	for i := range t.Columns {
		c := &t.Columns[i]
		cp := fmt.Sprintf("%s.columns[%d]", path, i)
		validateColumn(c, cp, p)
		if tableOK && c.OID != "" && !slices.ContainsFunc(entries, func(e string) bool { return HasPrefix(c.OID, e) && c.OID != e }) {
			p.Add(cp+".oid", "%s is not a column of %s", c.OID, strings.Join(entries, " or "))
		}
		if c.Name != "" {
			keys[c.Name] = true
		}
		name, tag := c.Output()
		out.add(name, tag, c.EffectiveType(), cp+outKey(tag))
	}
	for i := range t.Lookups {
		l := &t.Lookups[i]
		lp := fmt.Sprintf("%s.lookups[%d]", path, i)
		validateOID(l.OID, lp+".oid", p)
		validateMIBName(l.Name, lp+".name", p)
		switch {
		case l.Key == "":
			p.Add(lp+".key", "required: an index part or a column name")
		case !keys[l.Key]:
			p.Add(lp+".key", "%q is neither an index part nor a column of this table", l.Key)
		}
		switch {
		case l.Field == "" && l.Tag == "":
			p.Add(lp, "needs field or tag")
		case l.Field != "" && l.Tag != "":
			p.Add(lp, "has both field and tag")
		}
		validateValue(l.EffectiveType(), l.Tag != "", l.Enum, l.True, 0, l.Label, lp, p)
		if l.Tag != "" {
			out.add(l.Tag, true, l.EffectiveType(), lp+".tag")
		} else {
			out.add(l.Field, false, l.EffectiveType(), lp+".field")
		}
	}
	for i, f := range t.Filters {
		fp := fmt.Sprintf("%s.filter[%d]", path, i)
		validateOID(f.OID, fp+".oid", p)
		validateMIBName(f.Name, fp+".name", p)
		if len(f.In) == 0 && len(f.NotIn) == 0 {
			p.Add(fp, "needs in or not_in")
		}
		if len(f.In) > 0 && len(f.NotIn) > 0 {
			p.Add(fp, "has both in and not_in")
		}
	}
	for i, d := range t.Derive {
		dp := fmt.Sprintf("%s.derive[%d]", path, i)
		if len(d.Ratio) != 2 {
			p.Add(dp+".ratio", "needs two fields: numerator and denominator")
		} else {
			for _, f := range d.Ratio {
				if typ, ok := out.fields[f]; !ok {
					p.Add(dp+".ratio", "%q is not a field of this read", f)
				} else if !numeric[typ] {
					p.Add(dp+".ratio", "%q is not numeric", f)
				}
			}
		}
		out.add(d.Field, false, TypeGauge, dp+".field")
	}
	if out.tags == 0 {
		// Every row lands on the same point, so each field must say how
		// rows are combined.
		for i, c := range t.Columns {
			if c.Field != "" && c.Aggregate == "" {
				p.Add(fmt.Sprintf("%s.columns[%d].aggregate", path, i), "required: this table has no tags, so its rows are combined (sum, avg, min or max)")
			}
		}
	}
}
