package score

// State is a verdict's outcome.
type State string

// The verdict states.
const (
	Met                State = "met"
	PartlyMet          State = "partly_met"
	NotMet             State = "not_met"
	NotEnoughData      State = "not_enough_data"
	Attested           State = "attested"
	AttestationExpired State = "attestation_expired"
	NotApplicable      State = "not_applicable"
	// PlanNeeded replaces NotMet for requirements due when kit or a
	// contract is next replaced: a school is not failing them today.
	PlanNeeded State = "plan_needed"
)

// States lists every state, best first.
var States = []State{Met, Attested, PartlyMet, PlanNeeded, NotMet, AttestationExpired, NotEnoughData, NotApplicable}

// Label is the state in plain English, as reports show it.
func (s State) Label() string {
	switch s {
	case Met:
		return "Met"
	case PartlyMet:
		return "Partly met"
	case NotMet:
		return "Not met"
	case NotEnoughData:
		return "Not enough data"
	case Attested:
		return "Attested"
	case AttestationExpired:
		return "Attestation expired"
	case NotApplicable:
		return "Not applicable"
	case PlanNeeded:
		return "Plan needed"
	}
	return string(s)
}
