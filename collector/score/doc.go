// Package score turns a requirement of the catalogue (collector/standards)
// and a site's points and attestations into a verdict a governor can read.
//
// Evaluate is pure: no I/O and no clock of its own; the caller passes Now.
// Engine fetches each condition's window through a Source and calls
// Evaluate for every requirement.
//
// # One condition
//
// A condition's samples are the points of its measurement in the window
// [Now-Window, Now) whose tags equal Where, whose ok field is true when
// OnlyOK is set, and which carry the field with a value of the right type
// (a lookup that timed out has no rcode and is not a sample). The statistic
// is computed over them (percentiles interpolate linearly between ranks, as
// numpy's default and Excel's PERCENTILE.INC) and compared with the
// threshold for the site's phase. Fewer samples than MinSamples is not
// enough data: never a pass, never a fail.
//
// With GroupBy the samples are split by that tag and every group must pass:
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
//
// An attestation is unexpired from At until Expires (At plus the
// requirement's attestation life, a year or four months, when Expires is
// not set); one dated after Now is ignored. The latest by At counts.
package score
