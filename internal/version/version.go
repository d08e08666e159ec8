// Package version holds build information stamped in by the linker
// (-X github.com/probity-edu/probity/internal/version.Version=...).
package version

import (
	"fmt"
	"runtime"
)

// Set at build time; the defaults mark a development build.
var (
	Version = "dev"
	Commit  = "unknown"
	Date    = "unknown"
)

// String is what `version` subcommands print.
func String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, built %s, %s %s/%s)", program, Version, Commit, Date,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
