// Package meta checks the repository's own rules: every package has a doc
// comment, every probe kind has a README, the agent and the collector never
// import each other, and docs/measurements.md matches the measurement table.
package meta
