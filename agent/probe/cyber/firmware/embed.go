// Package firmware holds the shipped minimum safe firmware versions as
// embedded YAML, one file per vendor; package cyber loads and checks them.
// README.md in package cyber describes the format.
package firmware

import "embed"

// FS holds every shipped minimums file (*.yaml).
//
//go:embed *.yaml
var FS embed.FS
