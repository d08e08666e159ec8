package suite

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/probity-edu/probity/internal/yamlpath"
	"gopkg.in/yaml.v3"
)

// Error is one problem in a suite file: where it is and what is wrong.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // key path in the file: categories[1].targets[0].url
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

// decodeError turns a yaml.v3 error into Errors with lines and keys. A
// syntax error leaves no document to find keys in: only its line.
func (p *problems) decodeError(err error) {
	var te *yaml.TypeError
	typed := errors.As(err, &te)
	for _, pr := range yamlpath.Problems(err) {
		if !typed || pr.Line == 0 {
			p.errs = append(p.errs, &Error{File: p.file, Line: pr.Line, Msg: pr.Msg})
			continue
		}
		path := yamlpath.PathAt(p.root, pr.Line, pr.Key)
		if pr.AtParent {
			path = yamlpath.Parent(path)
		}
		p.errs = append(p.errs, &Error{File: p.file, Line: pr.Line, Key: path, Msg: pr.Msg})
	}
}

// decodeStrict parses data into out, rejecting unknown and repeated keys,
// and keeps the node tree in p for line numbers.
func decodeStrict(data []byte, p *problems, out any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p.decodeError(err)
		return p.err()
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return &Error{File: p.file, Msg: "empty file"}
	}
	p.root = &root
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		p.decodeError(err)
		return p.err()
	}
	return nil
}
