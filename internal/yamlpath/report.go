package yamlpath

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a YAML data file: where it is and what is wrong,
// read as file:line: key.path: message.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // key path in the file, e.g. reads[2].table.columns[0].oid
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Report collects the problems of one file by key path and gives them lines
// from the document's node tree (set by DecodeStrict). The data packages
// (SNMP profiles, filtering suites, block pages) validate into one.
type Report struct {
	File string
	Root *yaml.Node
	Errs []*Error
}

// Add records a problem at a key path.
func (r *Report) Add(path, format string, args ...any) {
	r.Errs = append(r.Errs, &Error{File: r.File, Line: LineOf(r.Root, path), Key: path, Msg: fmt.Sprintf(format, args...)})
}

// AddLine records a problem at a line the decoder gave, with the key path
// found there (its parent's when the key itself is the mistake).
func (r *Report) AddLine(line int, key string, atParent bool, msg string) {
	path := PathAt(r.Root, line, key)
	if atParent {
		path = Parent(path)
	}
	r.Errs = append(r.Errs, &Error{File: r.File, Line: line, Key: path, Msg: msg})
}

// Err joins the problems in line order; nil when there are none.
func (r *Report) Err() error {
	if len(r.Errs) == 0 {
		return nil
	}
	sort.SliceStable(r.Errs, func(i, j int) bool { return r.Errs[i].Line < r.Errs[j].Line })
	out := make([]error, len(r.Errs))
	for i, e := range r.Errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// DecodeError records a yaml.v3 error. A syntax error leaves no document
// to find keys in: only its line.
func (r *Report) DecodeError(err error) {
	var te *yaml.TypeError
	typed := errors.As(err, &te)
	for _, pr := range Problems(err) {
		if !typed || pr.Line == 0 {
			r.Errs = append(r.Errs, &Error{File: r.File, Line: pr.Line, Msg: pr.Msg})
			continue
		}
		r.AddLine(pr.Line, pr.Key, pr.AtParent, pr.Msg)
	}
}

// DecodeStrict parses data into out, rejecting unknown and repeated keys,
// and keeps the node tree in r for line numbers. what names the file's
// kind in the "empty" error ("profile", "suite file").
func DecodeStrict(data []byte, r *Report, out any, what string) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		r.DecodeError(err)
		return r.Err()
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return &Error{File: r.File, Msg: "empty " + what}
	}
	r.Root = &root
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{File: r.File, Msg: "empty " + what}
		}
		r.DecodeError(err)
		return r.Err()
	}
	return nil
}
