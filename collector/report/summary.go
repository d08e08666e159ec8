package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/probity-edu/probity/collector/standards"
)

// Standard-level states of the governors' summary. A standard is judged
// from its requirements that apply to the school.
const (
	StandardMet          = "met"
	StandardPartlyMet    = "partly_met"
	StandardNotMet       = "not_met"
	StandardNotEvidenced = "not_evidenced"
)

// StandardLabel is a standard-level state in plain English.
func StandardLabel(state string) string {
	switch state {
	case StandardMet:
		return "Met"
	case StandardPartlyMet:
		return "Partly met"
	case StandardNotMet:
		return "Not met"
	case StandardNotEvidenced:
		return "Not evidenced"
	}
	return state
}

// StandardSummary is one standard's line in the governors' summary: its
// state, the one sentence that explains it, and its state at the start
// of the period.
type StandardSummary struct {
	Standard   string `json:"standard"`
	Name       string `json:"name"`
	Core       bool   `json:"core"`
	State      string `json:"state"`
	StateLabel string `json:"state_label"`
	Why        string `json:"why"`
	// Previous is the state at the start of the period; "" when no
	// verdicts were stored that far back.
	Previous      string `json:"previous,omitempty"`
	PreviousLabel string `json:"previous_label,omitempty"`
	Met           int    `json:"met"`   // requirements met or attested
	Total         int    `json:"total"` // requirements that apply
}

// judged is what standardState needs of a requirement.
type judged struct {
	id, title, state, summary, due string
}

// standardState judges a standard from its applicable requirements:
// not met when a requirement already due is not met or its attestation
// has expired; met when every one is met or attested; not evidenced when
// none has a measured or attested result; partly met otherwise. why is the
// sentence that explains it.
func standardState(rs []judged) (state, why string, met int) {
	var failing, gaps []judged
	evidenced := 0
	for _, r := range rs {
		switch r.state {
		case "met", "attested":
			met++
			evidenced++
		case "not_met", "attestation_expired":
			evidenced++
			if r.due == standards.DueAlready {
				failing = append(failing, r)
			} else {
				gaps = append(gaps, r)
			}
		case "partly_met", "plan_needed":
			evidenced++
			gaps = append(gaps, r)
		default:
			gaps = append(gaps, r)
		}
	}
	first := func(js []judged) string {
		s := js[0].id + " " + js[0].title + ": " + strings.TrimSuffix(js[0].summary, ".") + "."
		if len(js) > 1 {
			s += fmt.Sprintf(" (and %d more)", len(js)-1)
		}
		return s
	}
	// The gap worth naming first is one with a result; rows not yet
	// scored go last.
	slices.SortStableFunc(gaps, func(a, b judged) int { return cmp.Compare(gapOrder(a.state), gapOrder(b.state)) })
	switch {
	case len(rs) == 0:
		return StandardNotEvidenced, "No requirement of this standard applies to this school.", 0
	case len(failing) > 0:
		return StandardNotMet, first(failing), met
	case met == len(rs):
		return StandardMet, fmt.Sprintf("All %d requirements are met or attested.", len(rs)), met
	case evidenced == 0:
		return StandardNotEvidenced, fmt.Sprintf("None of its %d requirements has measured data or an attestation yet.", len(rs)), met
	}
	return StandardPartlyMet, fmt.Sprintf("%d of %d requirements met or attested; next: %s", met, len(rs), first(gaps)), met
}

func gapOrder(state string) int {
	switch state {
	case "not_met", "attestation_expired":
		return 0
	case "partly_met", "plan_needed":
		return 1
	case "not_enough_data":
		return 2
	}
	return 3
}

// standardSummaries judges every standard from the rows, in catalogue
// order, with its state at the start of the period when compared > 0.
func standardSummaries(cat *standards.Catalogue, rows []Row, compared int) []StandardSummary {
	due := map[string]string{}
	for _, r := range cat.Requirements {
		due[r.ID] = r.Due
	}
	var order []string
	now, then := map[string][]judged{}, map[string][]judged{}
	core := map[string]bool{}
	for _, row := range rows {
		if row.State == "not_applicable" {
			continue
		}
		if _, ok := now[row.Standard]; !ok {
			order = append(order, row.Standard)
		}
		core[row.Standard] = core[row.Standard] || row.Core
		now[row.Standard] = append(now[row.Standard], judged{row.ID, row.Title, row.State, row.Summary, due[row.ID]})
		prev := row.State
		if row.Previous != nil {
			prev = row.Previous.State
		}
		then[row.Standard] = append(then[row.Standard], judged{row.ID, row.Title, prev, "", due[row.ID]})
	}
	out := make([]StandardSummary, 0, len(order))
	for _, std := range order {
		state, why, met := standardState(now[std])
		s := StandardSummary{Standard: std, Name: standardName(std), Core: core[std], State: state,
			StateLabel: StandardLabel(state), Why: why, Met: met, Total: len(now[std])}
		if compared > 0 {
			s.Previous, _, _ = standardState(then[std])
			s.PreviousLabel = StandardLabel(s.Previous)
		}
		out = append(out, s)
	}
	return out
}

// Action is the gap a requirement leaves and what to do about it.
type Action struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Core     bool   `json:"core"`
	Text     string `json:"text"`
	Due      string `json:"due"` // now, at_replacement, by_2030
	DueLabel string `json:"due_label"`
}

// dueOf maps the catalogue's due to an action's.
func dueOf(d string) (string, string) {
	switch d {
	case standards.DueAtReplacement:
		return "at_replacement", "At next replacement"
	case standards.DueBy2030:
		return "by_2030", "By 2030"
	}
	return "now", "Now"
}

// action says what closes a row's gap; nil when there is none.
func action(req standards.Requirement, row Row) *Action {
	var text string
	switch row.State {
	case "met", "attested", "not_applicable":
		return nil
	case "not_met":
		text = "Bring it up to the standard: " + row.Summary
	case "partly_met":
		if row.Attested.Status == AttestedMissing || row.Attested.Status == AttestedExpired {
			text = "Record an attestation, by a named person, of the part no probe measures."
		} else {
			text = "Close the remaining gap: " + row.Summary
		}
	case "attestation_expired":
		text = "Renew the attestation: " + row.Attested.Text
	case "plan_needed":
		text = "Record the plan the standard asks for: " + row.Summary
	case "not_enough_data":
		switch {
		case req.Evidence == standards.EvidenceAttested:
			text = "Record an attestation, by a named person, with where the evidence is kept."
		case row.Measured.Status == MeasuredNoProbe && req.Evidence == standards.EvidencePartly:
			text = "Record an attestation, by a named person: no probe measures this part yet."
		case row.Measured.Status == MeasuredNoProbe:
			return nil // nothing the school can do until Probity measures it
		default:
			text = "Make sure an agent measures this: " + row.Measured.Text
		}
	default:
		return nil
	}
	due, label := dueOf(req.Due)
	return &Action{ID: req.ID, Title: req.Title, Core: req.Core, Text: text, Due: due, DueLabel: label}
}
