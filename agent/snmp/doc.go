// Package snmp is the agent's SNMP client layer: per-device configuration
// with credentials (Target), one gosnmp session per device (Client) with
// batched GETs and GETBULK walks whose max-repetitions adapt to what the
// device and the path can carry, typed values that never panic on malformed
// responses (Value), failure reasons a report can show (Reason), a bounded
// worker pool that gives every device its own time budget so a dead or slow
// device never holds up the others (Poller), counter-to-rate conversion that
// survives wraps and reboots (Rates), and a cache for slowly changing label
// columns (LabelCache).
//
// What to read from a device and how to name it lives in profiles
// (agent/snmp/profile); credentials live only here, in the agent's config.
package snmp
