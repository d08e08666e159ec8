// Package standards holds the DfE digital and technology standards as data:
// the requirement catalogue (catalogue.yaml) and the table of every
// measurement the agent produces (measurements.yaml), both embedded.
//
// A requirement is measured, partly measured or attested. Measured and
// partly measured ones may carry a Rule: conditions over one measurement's
// samples in a time window (a statistic compared with a threshold). Rules
// are data, evaluated by collector/score; this package only loads and
// validates them.
//
// A measured row whose probe does not exist yet names it in AwaitingProbe
// (one of PlannedProbes) instead of carrying a rule.
//
// Loading is strict: an unknown or mistyped key, an unknown measurement,
// field or tag, a statistic that does not fit the field, or a rule on an
// attested requirement is an error naming the file, the line and the
// requirement id. Default returns the embedded catalogue, which a test
// loads, so a bad edit fails the build's tests rather than a school's report.
//
// A trust may tighten thresholds with a policy (LoadOverlay, then
// Catalogue.WithOverlay), checked just as strictly; a change that is not a
// pure tightening must say loosen: true and is flagged on the condition.
// Describe and friends put rules into plain English for the CLI and reports.
package standards
