// Package cfgerr is the error type of configuration validation: a key path
// (probes[1].ping.count) and what is wrong with it. Components return these
// from Validate without importing the config loader; the loader turns the
// path into a file and line.
package cfgerr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one invalid key.
type Error struct {
	Path string // dotted yaml key path, list indexes in brackets: probes[1].ping.count
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errorf builds an Error for path.
func Errorf(path, format string, args ...any) error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Prefix puts prefix in front of the path of every Error inside err (joined
// errors included). Other errors become an Error at prefix.
func Prefix(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range Flatten(err) {
		var fe *Error
		if errors.As(e, &fe) {
			out = append(out, &Error{Path: join(prefix, fe.Path), Msg: fe.Msg})
		} else {
			out = append(out, &Error{Path: prefix, Msg: e.Error()})
		}
	}
	return errors.Join(out...)
}

// Flatten unpacks errors.Join trees into a flat list.
func Flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// Paths lists the key paths of err's validation errors, sorted; an error
// without a path is listed as "!" and its text. Tests compare these.
func Paths(err error) []string {
	var paths []string
	for _, e := range Flatten(err) {
		var fe *Error
		if errors.As(e, &fe) {
			paths = append(paths, fe.Path)
		} else {
			paths = append(paths, "!"+e.Error())
		}
	}
	slices.Sort(paths)
	return paths
}

func join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case strings.HasPrefix(path, "["):
		return prefix + path
	}
	return prefix + "." + path
}
