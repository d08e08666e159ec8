// Package profiles holds the shipped SNMP profiles and end-of-support data
// as embedded YAML; package profile loads and validates them.
package profiles

import "embed"

// FS holds every shipped profile (*.yaml) and eos.yaml.
//
//go:embed *.yaml
var FS embed.FS
