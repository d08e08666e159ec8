package standards

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/probity-edu/probity/internal/yamlpath"
	"gopkg.in/yaml.v3"
)

// Overlay is a trust's policy (policy.yaml): changes to the thresholds,
// windows and minimum samples of the catalogue's conditions. A policy may
// tighten freely; a change that is not a pure tightening needs Loosen and
// is flagged wherever the condition is shown.
type Overlay struct {
	Name      string     `json:"name"` // goes into the catalogue version: 2026.12.1+policy:<name>
	Overrides []Override `json:"overrides"`

	file string     // for errors found when the overlay is applied
	root *yaml.Node // for their lines
}

// Override changes one condition of one requirement.
type Override struct {
	ID        string `json:"id"`
	Condition string `json:"condition"` // the condition's name, as `standards show` prints it
	// Threshold replaces the threshold for every phase; Thresholds then
	// replaces it for the phases they name.
	Threshold  *float64           `json:"threshold,omitempty"`
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
	Window     time.Duration      `json:"window,omitempty"`      // 0: unchanged
	MinSamples int                `json:"min_samples,omitempty"` // 0: unchanged
	// Loosen accepts that some change is not a tightening. Without it such
	// an override is refused; with it, every change must not be a pure
	// tightening, so the flag never claims more than is true.
	Loosen bool   `json:"loosen,omitempty"`
	Reason string `json:"reason"` // why the trust differs from the DfE
}

// Policy records a trust policy's change to one condition, with the DfE's
// own limits, so a report can show both and flag a loosening.
type Policy struct {
	Name    string   `json:"name"`
	Reason  string   `json:"reason"`
	Loosens bool     `json:"loosens"` // some change is not a tightening (the policy said loosen: true)
	Changes []Change `json:"changes"`
	DfE     Limits   `json:"dfe"`
}

// Change is one limit a policy changed.
type Change struct {
	Key     string   `json:"key"`              // threshold, window or min_samples
	Phases  []string `json:"phases,omitempty"` // for a threshold: the phases whose threshold changed
	From    string   `json:"from"`             // as shown: "≥ 100 Mbit/s", "7 days", "5"
	To      string   `json:"to"`
	Loosens bool     `json:"loosens"`
}

// Limits are the parts of a condition a policy may change.
type Limits struct {
	Value      float64            `json:"value"`
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
	Window     time.Duration      `json:"window"`
	MinSamples int                `json:"min_samples"`
}

// String is the change in plain English: "threshold for primary schools ≥
// 100 Mbit/s → ≥ 200 Mbit/s (tighter)".
func (c Change) String() string {
	dir := "tighter"
	if c.Loosens {
		dir = "looser"
		if c.Key == "window" {
			dir = "not a pure tightening"
		}
	}
	return c.fromTo() + " (" + dir + ")"
}

func (c Change) fromTo() string {
	key := strings.ReplaceAll(c.Key, "_", " ")
	if len(c.Phases) > 0 {
		key += " for " + PhaseWords(c.Phases)
	}
	return fmt.Sprintf("%s %s → %s", key, c.From, c.To)
}

// Describe is the policy in one line: "Trust policy oak-valley changes the
// DfE rule: threshold ... (tighter). Reason: ...". A loosening says so first.
func (p *Policy) Describe() string {
	var parts []string
	for _, c := range p.Changes {
		parts = append(parts, c.String())
	}
	verb := "tightens"
	if p.Loosens {
		verb = "LOOSENS"
	}
	return fmt.Sprintf("Trust policy %s %s the DfE rule: %s. Reason: %s", p.Name, verb, strings.Join(parts, "; "), p.Reason)
}

type rawOverlay struct {
	Name      string        `yaml:"name"`
	Overrides []rawOverride `yaml:"overrides"`
}

type rawOverride struct {
	ID         string             `yaml:"id"`
	Condition  string             `yaml:"condition"`
	Threshold  *float64           `yaml:"threshold"`
	Thresholds map[string]float64 `yaml:"thresholds"`
	Window     string             `yaml:"window"`
	MinSamples *int               `yaml:"min_samples"`
	Loosen     bool               `yaml:"loosen"`
	Reason     string             `yaml:"reason"`
}

var policyName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// LoadOverlay decodes and checks a policy file on its own; WithOverlay
// checks it against a catalogue. name is the file name used in errors.
// Every problem is reported, each as an *Error with the file, line and
// requirement id, joined.
func LoadOverlay(data []byte, name string) (*Overlay, error) {
	p := &problems{file: name, list: "overrides"}
	var raw rawOverlay
	if err := decodeStrict(data, p, &raw, "policy"); err != nil {
		return nil, err
	}
	o := &Overlay{Name: raw.Name, file: name, root: p.root}
	switch {
	case raw.Name == "":
		p.add("name", "required: the policy's name, such as oak-valley-trust")
	case !policyName.MatchString(raw.Name):
		p.add("name", "%q is not a policy name: lower-case letters, digits and single hyphens (it goes into the catalogue version)", raw.Name)
	}
	if len(raw.Overrides) == 0 {
		p.add("overrides", "no overrides")
	}
	seen := map[[2]string]int{}
	for i, ro := range raw.Overrides {
		path := fmt.Sprintf("overrides[%d]", i)
		ov := Override{ID: ro.ID, Condition: ro.Condition, Threshold: ro.Threshold, Thresholds: ro.Thresholds, Loosen: ro.Loosen, Reason: ro.Reason}
		switch {
		case ro.ID == "":
			p.add(path+".id", "required")
		case !idPattern.MatchString(ro.ID):
			p.add(path+".id", "%q is not an id like BB-2", ro.ID)
		}
		if ro.Condition == "" {
			p.add(path+".condition", "required: the condition's name, as `probity-collector standards show %s` prints it", ro.ID)
		}
		if key := [2]string{ro.ID, ro.Condition}; ro.ID != "" && ro.Condition != "" {
			if first, dup := seen[key]; dup {
				p.add(path+".condition", "this condition is already changed at line %d", yamlpath.LineOf(p.root, fmt.Sprintf("overrides[%d]", first)))
			} else {
				seen[key] = i
			}
		}
		if strings.TrimSpace(ro.Reason) == "" {
			p.add(path+".reason", "required: say why the trust's policy differs from the DfE's")
		}
		if ro.Threshold == nil && len(ro.Thresholds) == 0 && ro.Window == "" && ro.MinSamples == nil {
			p.add(path, "changes nothing: set threshold, thresholds, window or min_samples")
		}
		for _, ph := range sortedKeys(ro.Thresholds) {
			if !slices.Contains(Phases, ph) {
				p.add(path+".thresholds."+ph, "%q is not one of %s", ph, strings.Join(Phases, ", "))
			}
		}
		if ro.Window != "" {
			w, err := time.ParseDuration(ro.Window)
			switch {
			case err != nil:
				p.add(path+".window", "%q is not a duration such as 24h or 720h", ro.Window)
			case w <= 0:
				p.add(path+".window", "must be positive")
			}
			ov.Window = w
		}
		if ro.MinSamples != nil {
			if *ro.MinSamples < 1 {
				p.add(path+".min_samples", "must be at least 1")
			}
			ov.MinSamples = *ro.MinSamples
		}
		o.Overrides = append(o.Overrides, ov)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return o, nil
}

// WithOverlay returns a copy of the catalogue with the trust policy applied:
// its version reads <version>+policy:<name>, and every changed condition
// carries a Policy with the DfE's own limits. c is not modified. An
// override naming an unknown requirement or condition, a threshold outside
// what the statistic allows, a change that is not a pure tightening without
// loosen: true, or loosen: true on a pure tightening is an error naming the
// policy file's line.
func (c *Catalogue) WithOverlay(o *Overlay) (*Catalogue, error) {
	if c.Policy != "" {
		return nil, &Error{File: o.file, Msg: fmt.Sprintf("catalogue %s already carries policy %s; policies do not stack", c.Version, c.Policy)}
	}
	p := &problems{file: o.file, root: o.root, list: "overrides"}
	out := c.clone()
	out.Version = c.Version + "+policy:" + o.Name
	out.Policy = o.Name
	for i, ov := range o.Overrides {
		path := fmt.Sprintf("overrides[%d]", i)
		ri := slices.IndexFunc(out.Requirements, func(r Requirement) bool { return r.ID == ov.ID })
		if ri < 0 {
			p.add(path+".id", "no requirement %s in catalogue %s", ov.ID, c.Version)
			continue
		}
		req := &out.Requirements[ri]
		if req.Rule == nil {
			p.add(path+".id", "%s has no rule: a policy changes the conditions of measured rows only", ov.ID)
			continue
		}
		ci := slices.IndexFunc(req.Rule.Conditions, func(cd Condition) bool { return cd.Name == ov.Condition })
		if ci < 0 {
			var names []string
			for _, cd := range req.Rule.Conditions {
				names = append(names, fmt.Sprintf("%q", cd.Name))
			}
			p.add(path+".condition", "%s has no condition %q (its conditions: %s)", ov.ID, ov.Condition, strings.Join(names, ", "))
			continue
		}
		cond := &req.Rule.Conditions[ci]
		applyOverride(cond, *req, ov, o.Name, path, p)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// applyOverride changes cond in place, classifying each change.
func applyOverride(cond *Condition, req Requirement, ov Override, policy, path string, p *problems) {
	already := len(p.errs)
	before := *cond
	after := *cond
	after.Thresholds = maps.Clone(cond.Thresholds)
	if ov.Threshold != nil {
		checkPercent(cond.Stat, *ov.Threshold, path+".threshold", p)
		after.Compare.Value = *ov.Threshold
		after.Thresholds = nil
	}
	for _, ph := range sortedKeys(ov.Thresholds) {
		if !req.AppliesTo(ph) {
			p.add(path+".thresholds."+ph, "%s does not apply to %s", req.ID, ph)
			continue
		}
		checkPercent(cond.Stat, ov.Thresholds[ph], path+".thresholds."+ph, p)
		if after.Thresholds == nil {
			after.Thresholds = map[string]float64{}
		}
		after.Thresholds[ph] = ov.Thresholds[ph]
	}
	if ov.Window > 0 {
		after.Window = ov.Window
	}
	if ov.MinSamples > 0 {
		after.MinSamples = ov.MinSamples
	}

	if len(p.errs) > already {
		return // a bad value: judging the changes would only add noise
	}
	changes := thresholdChanges(before, after, req)
	if after.Window != before.Window {
		// A longer window can dilute a recent failure and a shorter one
		// judges on less evidence: neither is a pure tightening.
		changes = append(changes, Change{Key: "window", From: durationWords(before.Window), To: durationWords(after.Window), Loosens: true})
	}
	if after.MinSamples != before.MinSamples {
		changes = append(changes, Change{Key: "min_samples", From: fmt.Sprint(before.MinSamples), To: fmt.Sprint(after.MinSamples), Loosens: after.MinSamples < before.MinSamples})
	}
	loosens := slices.ContainsFunc(changes, func(c Change) bool { return c.Loosens })
	switch {
	case len(changes) == 0:
		p.add(path, "changes nothing: the catalogue already has these limits for %s %q", req.ID, cond.Name)
		return
	case loosens && !ov.Loosen:
		var what []string
		verb := "is not a pure tightening of" // only window changes
		for _, c := range changes {
			if c.Loosens {
				what = append(what, c.fromTo())
				if c.Key != "window" {
					verb = "loosens"
				}
			}
		}
		p.add(path, "%s the DfE rule (%s); set loosen: true to accept that, and reports will flag it", verb, strings.Join(what, "; "))
		return
	case !loosens && ov.Loosen:
		p.add(path+".loosen", "every change tightens the DfE rule: remove loosen: true, or reports would flag a loosening that is not there")
		return
	}
	after.Policy = &Policy{
		Name: policy, Reason: strings.TrimSpace(ov.Reason), Loosens: loosens, Changes: changes,
		DfE: Limits{Value: before.Compare.Value, Thresholds: maps.Clone(before.Thresholds), Window: before.Window, MinSamples: before.MinSamples},
	}
	*cond = after
}

// thresholdChanges compares the threshold of every phase the requirement
// applies to, grouping phases with the same change.
func thresholdChanges(before, after Condition, req Requirement) []Change {
	scope := req.Phases
	if len(scope) == 0 {
		scope = Phases
	}
	var out []Change
	for _, ph := range scope {
		from, to := before.Threshold(ph), after.Threshold(ph)
		if from == to {
			continue
		}
		ch := Change{
			Key:     "threshold",
			From:    opSymbols[before.Compare.Op] + " " + quantity(from, before.Unit),
			To:      opSymbols[before.Compare.Op] + " " + quantity(to, before.Unit),
			Loosens: !tighter(before.Compare.Op, from, to),
		}
		if i := slices.IndexFunc(out, func(c Change) bool { return c.From == ch.From && c.To == ch.To }); i >= 0 {
			out[i].Phases = append(out[i].Phases, ph)
			continue
		}
		ch.Phases = []string{ph}
		out = append(out, ch)
	}
	// Every phase the requirement applies to changed alike: no list needed.
	if len(out) == 1 && len(out[0].Phases) == len(scope) {
		out[0].Phases = nil
	}
	return out
}

// tighter reports whether moving the threshold from from to to makes the
// comparison harder to pass on the same data. An equality has no order:
// any change to it counts as loosening.
func tighter(op string, from, to float64) bool {
	switch op {
	case OpGe, OpGt:
		return to > from
	case OpLe, OpLt:
		return to < from
	}
	return false
}

// clone copies the catalogue deeply enough that changing a condition of
// the copy leaves c untouched.
func (c *Catalogue) clone() *Catalogue {
	out := *c
	out.Requirements = slices.Clone(c.Requirements)
	for i := range out.Requirements {
		r := &out.Requirements[i]
		r.Phases = slices.Clone(r.Phases)
		if r.Rule == nil {
			continue
		}
		rule := *r.Rule
		rule.Conditions = slices.Clone(rule.Conditions)
		for j := range rule.Conditions {
			cd := &rule.Conditions[j]
			cd.Where = maps.Clone(cd.Where)
			cd.Exclude = maps.Clone(cd.Exclude)
			cd.Also = slices.Clone(cd.Also)
			cd.Thresholds = maps.Clone(cd.Thresholds)
		}
		r.Rule = &rule
	}
	return &out
}
