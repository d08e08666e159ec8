package profile

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/probity-edu/probity/internal/yamlpath"
	"gopkg.in/yaml.v3"
)

// Error is one problem in a profile or end-of-support file: where it is and
// what is wrong.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // key path in the file: reads[2].table.columns[0].oid
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

// problems collects errors by key path and gives them lines from the
// document's node tree.
type problems struct {
	file string
	root *yaml.Node
	errs []*Error
}

func (p *problems) add(path, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: yamlpath.LineOf(p.root, path), Key: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) addLine(line int, key string, atParent bool, msg string) {
	path := yamlpath.PathAt(p.root, line, key)
	if atParent {
		path = yamlpath.Parent(path)
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Key: path, Msg: msg})
}

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
	out := make([]error, len(p.errs))
	for i, e := range p.errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// decodeError turns a yaml.v3 error into Errors with lines and keys.
// A syntax error leaves no document to find keys in: only its line.
func (p *problems) decodeError(err error) {
	var te *yaml.TypeError
	typed := errors.As(err, &te)
	for _, pr := range yamlpath.Problems(err) {
		if !typed || pr.Line == 0 {
			p.errs = append(p.errs, &Error{File: p.file, Line: pr.Line, Msg: pr.Msg})
			continue
		}
		p.addLine(pr.Line, pr.Key, pr.AtParent, pr.Msg)
	}
}
