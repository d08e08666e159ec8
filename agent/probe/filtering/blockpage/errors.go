package blockpage

import "github.com/probity-edu/probity/internal/yamlpath"

// Error is one problem in a file of this package: file, line, key path and
// what is wrong (see yamlpath.Error).
type Error = yamlpath.Error

// problems collects a file's errors with their lines.
type problems = yamlpath.Report
