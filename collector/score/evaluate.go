package score

import (
	"strings"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
)

// Evaluate judges one requirement for one site. See the package
// documentation for the truth tables.
func Evaluate(req standards.Requirement, in Input) Verdict {
	v := Verdict{ReqID: req.ID}
	if !req.AppliesTo(in.Phase) {
		if in.Phase == "" {
			v.State = NotEnoughData
			v.Summary = "Not enough data: this requirement applies only to " + phaseList(req.Phases) +
				", and the site's phase is not recorded."
			return v
		}
		v.State = NotApplicable
		v.Summary = "Not applicable: this requirement applies only to " + phaseList(req.Phases) +
			", and this site is " + phaseOne(in.Phase) + "."
		return v
	}
	valid, expired := pickAttestation(req, in.Attestations, in.Now)
	v.Evidence.Attestation = valid
	if valid == nil {
		v.Evidence.Attestation = expired
	}
	if req.Rule == nil {
		v.State, v.Summary = attestationOnly(valid, expired)
		if p, ok := standards.Planned(req.AwaitingProbe); ok && v.State == NotEnoughData {
			v.Summary = awaitingProbe(req, p)
		}
		return v
	}

	rule := req.Rule
	results := make([]condResult, len(rule.Conditions))
	mets := make([]*bool, len(rule.Conditions))
	for i, c := range rule.Conditions {
		bs, ok := in.Buckets[i]
		if !ok && len(in.Samples[i]) > 0 {
			bs = rollup.FromPoints("", in.Samples[i])
		}
		results[i] = evalCondition(c, bs, in.Phase, in.Now)
		mets[i] = results[i].met
	}
	measured := combine(rule.Combine, mets)

	v.Evidence.From = rollup.WindowStart(in.Now, rule.Window())
	v.Evidence.To = in.Now
	v.Evidence.Note = rule.Note
	for _, r := range results {
		v.Evidence.Samples += r.samples()
		v.Evidence.Conditions = append(v.Evidence.Conditions, r.evidence()...)
	}

	v.State = measured
	tail := ""
	if measured == Met && rule.Partial {
		v.State = PartlyMet
		tail = "; only part of this requirement is measured so far"
	}
	if req.Evidence == standards.EvidencePartly {
		v.State, tail = withAttestedPart(v.State, tail, valid, expired)
	}
	if v.State == NotMet && req.Due == standards.DueAtReplacement {
		v.State = PlanNeeded
		tail = "; replace or upgrade it at the next replacement, and plan that before 2030"
	}
	switch v.State {
	case Attested, AttestationExpired:
		_, s := attestationOnly(valid, expired)
		v.Summary = strings.TrimSuffix(s, ".") + "; the measured part has " + lowerFirst(ruleSummary(measured, measured, results, ""))
	default:
		v.Summary = ruleSummary(v.State, measured, results, tail)
	}
	return v
}

// combine applies the truth table of the package documentation.
func combine(how string, mets []*bool) State {
	met, notMet, none := 0, 0, 0
	for _, m := range mets {
		switch {
		case m == nil:
			none++
		case *m:
			met++
		default:
			notMet++
		}
	}
	if how == standards.CombineAny {
		switch {
		case met > 0:
			return Met
		case none == 0:
			return NotMet
		}
		return NotEnoughData
	}
	switch {
	case met == len(mets) && met > 0:
		return Met
	case met > 0:
		return PartlyMet
	case notMet > 0:
		return NotMet
	}
	return NotEnoughData
}

// withAttestedPart folds in the attested part of a partly measured
// requirement: the measured part alone can make it partly met at most.
func withAttestedPart(s State, tail string, valid, expired *Attestation) (State, string) {
	switch s {
	case Met:
		if valid != nil {
			return Met, "; the rest attested by " + valid.By + " on " + day(valid.At)
		}
		if expired != nil {
			return PartlyMet, "; the attestation of the rest expired on " + day(expired.Expires)
		}
		return PartlyMet, "; the rest needs an attestation"
	case NotEnoughData:
		switch {
		case valid != nil:
			return Attested, ""
		case expired != nil:
			return AttestationExpired, ""
		}
	}
	return s, tail
}

func attestationOnly(valid, expired *Attestation) (State, string) {
	switch {
	case valid != nil:
		return Attested, "Attested by " + valid.By + " on " + day(valid.At) + "; valid until " + day(valid.Expires) + "."
	case expired != nil:
		return AttestationExpired, "Attestation expired: " + expired.By + " attested this on " + day(expired.At) +
			" and it ran out on " + day(expired.Expires) + "; it needs renewing."
	}
	return NotEnoughData, "Not enough data: this requirement needs an attestation, and none has been recorded."
}

// awaitingProbe says which planned probe will measure a row that has no
// rule yet, and whether a person can attest it meanwhile.
func awaitingProbe(req standards.Requirement, p standards.PlannedProbe) string {
	s := "Not enough data: this is measured by the " + p.Name + " probe (" + p.Doc + "), which the agent does not have yet"
	if req.Evidence == standards.EvidenceMeasured {
		return s + "."
	}
	return s + "; until then a named person can attest it."
}

// evidence lists the condition's figures, one per group.
func (r condResult) evidence() []ConditionEvidence {
	out := make([]ConditionEvidence, 0, len(r.groups))
	for _, g := range r.groups {
		out = append(out, ConditionEvidence{
			Name: r.cond.Name, Group: g.group, Stat: r.cond.Stat, Value: g.value, Unit: r.cond.Unit,
			Threshold: r.threshold, Op: r.cond.Compare.Op, Samples: g.n, Met: g.met,
			Series: g.series, Approximate: g.approx, Policy: r.cond.Policy,
			Also: g.also, Excluded: g.excluded, Exclude: excludeIf(g.excluded, r.cond.Exclude),
		})
	}
	return out
}

// excludeIf names the exclusion only when it left something out.
func excludeIf(n int, ex map[string]string) map[string]string {
	if n == 0 {
		return nil
	}
	return ex
}
