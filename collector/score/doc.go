// Package score turns a requirement of the catalogue (collector/standards)
// and a site's rollups and attestations into a verdict a governor can read.
//
// Evaluate is pure: no I/O and no clock of its own; the caller passes Now.
// Engine fetches each condition's rollup buckets (collector/rollup)
// through a Source and calls Evaluate for every requirement. Scoring never
// reads raw points, so a year-long window costs a few hundred buckets.
//
// # One condition
//
// A condition's window is whole hours: from the start of the hour holding
// Now-Window up to Now, the current hour included as far as it is rolled
// up (rollup.Window). Windows longer than seven days read daily buckets
// for the whole days inside and hourly ones at either end. Its samples are
// those of the buckets of its measurement and field in the window whose
// series' tags equal Where, of the ok=true class when OnlyOK is set (the
// point's own ok field), and of the kind the statistic needs: numbers for
// last, min, max, mean and the percentiles; for share, the kind of the
// match's value (a lookup that timed out has no rcode and is not a
// sample). The statistic is computed over the merged buckets and compared
// with the threshold for the site's phase. Fewer samples than MinSamples
// is not enough data: never a pass, never a fail.
//
// Count, min, max, mean and last are exact. Percentiles interpolate
// linearly between ranks (numpy's default, Excel's PERCENTILE.INC) and are
// exact while every bucket held its values exactly (at most 32 distinct
// values an hour); past that they come from histogram bins, within 1% of
// the exact figure, and the evidence says approximate. A share counts
// bool and string values exactly; a numeric match (lt 50) is exact except
// for the samples in the one bin that holds the threshold; values beyond
// a bucket's 32 most frequent count as differing from every value a match
// names. Either approximation is marked in the evidence.
//
// With GroupBy the samples are split by that tag (or by the combination of
// several tags, "profile,target", named "student / nhs") and every group
// must pass:
// the condition fails if any group fails, passes if every group passes, and
// otherwise (some groups short of samples, none failing) has not enough data.
//
// # Combining conditions
//
// Counting the conditions that are met (M), not met (N) and short of data
// (U), out of T:
//
//	combine  M        N      U      verdict
//	all      T        0      0      met (partly_met if the rule is Partial)
//	all      ≥1       ≥1     any    partly_met
//	all      ≥1       0      ≥1     partly_met
//	all      0        ≥1     any    not_met
//	all      0        0      T      not_enough_data
//	any      ≥1       any    any    met (partly_met if the rule is Partial)
//	any      0        T      0      not_met
//	any      0        ≥1     ≥1     not_enough_data (the unknown one might pass)
//	any      0        0      T      not_enough_data
//
// A failing condition is never rescued by missing data elsewhere, and
// missing data never reads as met.
//
// # Requirements
//
//	requirement                     state of the site or data           verdict
//	phases exclude the site         -                                   not_applicable
//	phases set, site phase unknown  -                                   not_enough_data
//	no rule (attested, or partly    unexpired attestation               attested
//	  measured with no rule yet)    only expired attestations           attestation_expired
//	                                none                                not_enough_data
//	measured, with a rule           (the combined rule, as above)       measurement wins;
//	                                                                    attestations are kept
//	                                                                    in the evidence only
//	partly measured, with a rule    rule met, unexpired attestation     met
//	                                rule met, no unexpired attestation  partly_met
//	                                rule partly_met or not_met          that state
//	                                rule not_enough_data + attestation  attested / attestation_expired
//	                                rule not_enough_data, none          not_enough_data
//	due at_replacement              any of the above giving not_met     plan_needed
//
// A requirement due when kit or a contract is next replaced is never
// failed: what would be not met reads "Plan needed: ...; replace or
// upgrade it at the next replacement, and plan that before 2030".
//
// An attestation is unexpired from At until Expires (At plus the
// requirement's attestation life, a year or four months, when Expires is
// not set); one dated after Now is ignored. The latest by At counts.
package score
