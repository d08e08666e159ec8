package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/standards"
)

// The standards commands read the embedded catalogue only: they need no
// configuration and no store, so anyone can read the requirements or check
// a trust policy file on any machine.

func cmdStandardsList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("standards list", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	std := fs.String("standard", "", "only this standard: its name (cyber) or id prefix (CY)")
	core := fs.Bool("core", false, "only the six core standards (--core=false: only the others)")
	evidence := fs.String("evidence", "", "only measured, partly or attested rows")
	policy := fs.String("policy", "", "apply this trust policy file (policy.yaml) first")
	asJSON := fs.Bool("json", false, "print the rows as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (filters are flags: --standard, --core, --evidence)", fs.Arg(0))
	}
	cat, err := catalogueWithPolicy(*policy)
	if err != nil {
		return err
	}
	standard, err := standardNamed(*std)
	if err != nil {
		return err
	}
	if *evidence != "" && !slices.Contains([]string{standards.EvidenceMeasured, standards.EvidencePartly, standards.EvidenceAttested}, *evidence) {
		return fmt.Errorf("--evidence %q: want measured, partly or attested", *evidence)
	}

	var rows []standards.Requirement
	for _, r := range cat.Requirements {
		if (standard != "" && r.Standard != standard) || (fs.Changed("core") && r.Core != *core) || (*evidence != "" && r.Evidence != *evidence) {
			continue
		}
		rows = append(rows, r)
	}
	if *asJSON {
		return writeJSON(stdout, rows)
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTANDARD\tCORE\tEVIDENCE\tDUE\tMEASURED BY\tTITLE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Standard, map[bool]string{true: "yes", false: "no"}[r.Core], r.Evidence, r.Due, measuredBy(r), r.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d of %d requirements; catalogue %s, checked %s.\n", len(rows), len(cat.Requirements), cat.Version, cat.Checked)
	return nil
}

func cmdStandardsShow(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("standards show", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	policy := fs.String("policy", "", "apply this trust policy file (policy.yaml) first")
	asJSON := fs.Bool("json", false, "print the row as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: probity-collector standards show ID (for example FM-15)")
	}
	cat, err := catalogueWithPolicy(*policy)
	if err != nil {
		return err
	}
	id := strings.ToUpper(fs.Arg(0))
	r, ok := cat.Requirement(id)
	if !ok {
		return fmt.Errorf("no requirement %q in catalogue %s (see `probity-collector standards list`)", fs.Arg(0), cat.Version)
	}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	showRequirement(stdout, r, cat)
	return nil
}

// showRequirement prints one row for a person: facts, text, then the rule
// in plain English.
func showRequirement(w io.Writer, r standards.Requirement, cat *standards.Catalogue) {
	fmt.Fprintf(w, "%s  %s\n\n", r.ID, r.Title)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprint(w, wrap(fmt.Sprintf("%-13s", name+":"), value, 100))
		}
	}
	field("Standard", r.Standard+map[bool]string{true: " (a core standard, to be met by 2030)", false: " (not a core standard)"}[r.Core])
	field("Applies to", standards.PhaseWords(r.Phases))
	field("Evidence", evidenceWords[r.Evidence])
	field("Due", dueWords[r.Due])
	if r.AttestationLife != "" {
		field("Attestation", lifeWords[r.AttestationLife])
	}
	if r.AwaitingProbe != "" {
		pp, _ := standards.Planned(r.AwaitingProbe)
		field("Awaiting", "the "+pp.Name+" probe, not in the agent yet: "+pp.Doc)
	}
	field("Checked", r.Checked+" against the DfE page (catalogue "+cat.Version+")")
	field("Source", r.Source)
	field("Note", r.Note)
	fmt.Fprintln(w)
	fmt.Fprint(w, wrap("", r.Text, 100))
	if r.Rule == nil {
		if r.Evidence == standards.EvidenceMeasured {
			fmt.Fprintln(w, "\nNo rule yet: it is written when its probe exists.")
		}
		return
	}
	fmt.Fprintf(w, "\nRule: %s\n", r.Rule.Combination())
	for i, c := range r.Rule.Conditions {
		fmt.Fprint(w, wrap(fmt.Sprintf("  %d. ", i+1), c.Name+": "+c.DescribeFor(r.Phases), 100))
		if c.Policy != nil {
			fmt.Fprint(w, wrap("     ", c.Policy.Describe(), 100))
		}
	}
	if s := r.Rule.Remark(); s != "" {
		fmt.Fprint(w, wrap("  ", s, 100))
	}
}

var (
	evidenceWords = map[string]string{
		standards.EvidenceMeasured: "measured by the agent, with no one's word needed",
		standards.EvidencePartly:   "partly measured; a named person attests the rest",
		standards.EvidenceAttested: "attested: a named person's evidence (a document, a date, a record)",
	}
	dueWords = map[string]string{
		standards.DueAlready:       "already expected",
		standards.DueAtReplacement: "when the kit or contract is next replaced or upgraded; until then a plan is needed",
		standards.DueBy2030:        "by 2030, the target for the core standards",
	}
	lifeWords = map[string]string{
		standards.LifeYearly: "lasts a year",
		standards.LifeTermly: "lasts a term (four months)",
	}
)

// measuredBy is the list's MEASURED BY cell: the measurements a rule reads,
// or the probe the row awaits.
func measuredBy(r standards.Requirement) string {
	if r.AwaitingProbe != "" {
		return "awaiting " + r.AwaitingProbe
	}
	if r.Rule == nil {
		return "-"
	}
	var ms []string
	for _, c := range r.Rule.Conditions {
		if !slices.Contains(ms, c.Measurement) {
			ms = append(ms, c.Measurement)
		}
	}
	return strings.Join(ms, ",")
}

// standardNamed accepts a standard's name or id prefix, in any case.
func standardNamed(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, name := range standards.Standards {
		if strings.EqualFold(s, name) || strings.EqualFold(s, standards.Prefixes[name]) {
			return name, nil
		}
	}
	return "", fmt.Errorf("--standard %q: want one of %s, or an id prefix such as CY", s, strings.Join(standards.Standards, ", "))
}

// catalogueWithPolicy is the embedded catalogue, with the trust policy at
// path applied when path is set.
func catalogueWithPolicy(path string) (*standards.Catalogue, error) {
	if path == "" {
		return standards.Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	o, err := standards.LoadOverlay(data, path)
	if err != nil {
		return nil, fmt.Errorf("invalid policy:\n%w", err)
	}
	cat, err := standards.Default().WithOverlay(o)
	if err != nil {
		return nil, fmt.Errorf("invalid policy:\n%w", err)
	}
	return cat, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// wrap writes s after prefix, breaking at spaces so lines stay within
// width; continuation lines are indented to the prefix's width.
func wrap(prefix, s string, width int) string {
	indent := strings.Repeat(" ", utf8.RuneCountInString(prefix))
	var b strings.Builder
	line, n, empty := prefix, utf8.RuneCountInString(prefix), true
	for _, word := range strings.Fields(s) {
		wl := utf8.RuneCountInString(word)
		if !empty && n+1+wl > width {
			b.WriteString(line + "\n")
			line, n, empty = indent, len(indent), true
		}
		if !empty {
			line += " "
			n++
		}
		line += word
		n += wl
		empty = false
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}
