// Package e2e runs the real probity-agent and probity-collector binaries on
// loopback: enrolment, probe cycles, scoring, the report, and delivery across
// a collector outage. The tests live in *_test.go files.
package e2e
