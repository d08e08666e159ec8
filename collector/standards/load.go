package standards

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/probity-edu/probity/internal/yamlpath"
	"gopkg.in/yaml.v3"
)

// The raw shapes mirror the YAML exactly; pointers mark keys whose absence
// means "use the default" rather than zero.
type rawCatalogue struct {
	Version      string           `yaml:"version"`
	Checked      string           `yaml:"checked"`
	Requirements []rawRequirement `yaml:"requirements"`
}

type rawRequirement struct {
	ID              string   `yaml:"id"`
	Standard        string   `yaml:"standard"`
	Title           string   `yaml:"title"`
	Text            string   `yaml:"text"`
	Core            bool     `yaml:"core"`
	Phases          []string `yaml:"phases"`
	Evidence        string   `yaml:"evidence"`
	Due             string   `yaml:"due"`
	AttestationLife string   `yaml:"attestation_life"`
	Source          string   `yaml:"source"`
	Checked         string   `yaml:"checked"`
	Note            string   `yaml:"note"`
	AwaitingProbe   string   `yaml:"awaiting_probe"`
	Rule            *rawRule `yaml:"rule"`
}

type rawRule struct {
	Combine    string         `yaml:"combine"`
	Partial    bool           `yaml:"partial"`
	Note       string         `yaml:"note"`
	Conditions []rawCondition `yaml:"conditions"`
}

type rawCondition struct {
	Name        string             `yaml:"name"`
	Measurement string             `yaml:"measurement"`
	Where       map[string]string  `yaml:"where"`
	Exclude     map[string]string  `yaml:"exclude"`
	Also        []string           `yaml:"also"`
	Field       string             `yaml:"field"`
	OnlyOK      *bool              `yaml:"only_ok"`
	Window      string             `yaml:"window"` // a Go duration; parsed here so "24" is not read as 24 ns
	Stat        string             `yaml:"stat"`
	Match       *rawMatch          `yaml:"match"`
	Compare     *rawCompare        `yaml:"compare"`
	Thresholds  map[string]float64 `yaml:"thresholds"`
	MinSamples  *int               `yaml:"min_samples"`
	GroupBy     string             `yaml:"group_by"`
	Unit        string             `yaml:"unit"`
}

type rawMatch struct {
	Op     string   `yaml:"op"`
	Value  any      `yaml:"value"`
	Values []string `yaml:"values"`
}

type rawCompare struct {
	Op    string   `yaml:"op"`
	Value *float64 `yaml:"value"`
}

// Load decodes and validates a catalogue. name is the file name used in
// errors. Every problem found is reported, each as an *Error, joined.
func Load(data []byte, name string) (*Catalogue, error) {
	p := &problems{file: name}
	var raw rawCatalogue
	if err := decodeStrict(data, p, &raw, "catalogue"); err != nil {
		return nil, err
	}
	tab, err := embedded()
	if err != nil {
		return nil, err
	}
	c := build(raw, tab, p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// build converts and validates; problems go to p.
func build(raw rawCatalogue, tab Table, p *problems) *Catalogue {
	c := &Catalogue{Version: raw.Version, Checked: raw.Checked}
	if raw.Version == "" {
		p.add("version", "required")
	}
	defaultChecked := ""
	if raw.Checked == "" {
		p.add("checked", "required: the date (YYYY-MM-DD) the rows were last checked against the DfE pages")
	} else if _, err := time.Parse(time.DateOnly, raw.Checked); err != nil {
		p.add("checked", "%q is not a date (YYYY-MM-DD)", raw.Checked)
	} else {
		defaultChecked = raw.Checked
	}
	if len(raw.Requirements) == 0 {
		p.add("requirements", "no requirements")
	}
	seen := map[string]int{}
	for i, rr := range raw.Requirements {
		path := fmt.Sprintf("requirements[%d]", i)
		if first, dup := seen[rr.ID]; dup && rr.ID != "" {
			p.add(path+".id", "duplicate: also at line %d", yamlpath.LineOf(p.root, fmt.Sprintf("requirements[%d].id", first)))
		} else {
			seen[rr.ID] = i
		}
		if rr.Checked == "" {
			rr.Checked = defaultChecked // a row not checked on its own date was checked with the rest
		}
		c.Requirements = append(c.Requirements, buildRequirement(rr, path, tab, p))
	}
	return c
}

func buildRequirement(rr rawRequirement, path string, tab Table, p *problems) Requirement {
	r := Requirement{
		ID: rr.ID, Standard: rr.Standard, Title: rr.Title, Text: rr.Text, Core: rr.Core,
		Phases: rr.Phases, Evidence: rr.Evidence, Due: rr.Due, AttestationLife: rr.AttestationLife,
		Source: rr.Source, Checked: rr.Checked, Note: rr.Note, AwaitingProbe: rr.AwaitingProbe,
	}
	validateRequirement(r, rr.Rule != nil, path, p)
	if rr.Rule != nil {
		r.Rule = buildRule(*rr.Rule, r, path+".rule", tab, p)
	}
	return r
}

func buildRule(rr rawRule, req Requirement, path string, tab Table, p *problems) *Rule {
	r := &Rule{Combine: rr.Combine, Partial: rr.Partial, Note: rr.Note}
	if r.Combine == "" {
		r.Combine = CombineAll
	}
	switch {
	case r.Combine != CombineAll && r.Combine != CombineAny:
		p.add(path+".combine", "%q is not all or any", rr.Combine)
	case r.Partial && r.Note == "":
		p.add(path+".note", "required when partial is true: say what is not yet measured")
	case len(rr.Conditions) == 0:
		p.add(path+".conditions", "a rule needs at least one condition")
	}
	for i, rc := range rr.Conditions {
		r.Conditions = append(r.Conditions, buildCondition(rc, req, fmt.Sprintf("%s.conditions[%d]", path, i), tab, p))
	}
	return r
}

// decodeStrict parses data into out, rejecting unknown and repeated keys,
// and keeps the node tree in p for line numbers. what names the file's
// kind in the message for an empty file.
func decodeStrict(data []byte, p *problems, out any, what string) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p.decodeError(err)
		return p.err()
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return &Error{File: p.file, Msg: "empty " + what}
	}
	p.root = &root
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{File: p.file, Msg: "empty " + what}
		}
		p.decodeError(err)
		return p.err()
	}
	return nil
}
