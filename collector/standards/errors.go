package standards

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/probity-edu/probity/internal/yamlpath"
	"gopkg.in/yaml.v3"
)

// Error is one problem in a catalogue file: where it is and what is wrong.
type Error struct {
	File string
	Line int    // 0 when unknown
	ID   string // requirement id, when the problem is inside one
	Key  string // key path inside the requirement (or the file): rule.conditions[0].field
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.ID != "" {
		b.WriteString(e.ID + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// problems collects errors with their key paths (relative to the document
// root) and turns them into Errors with lines once the whole file is seen.
type problems struct {
	file string
	root *yaml.Node
	list string // the top-level list whose entries carry an id: "requirements" unless set
	errs []*Error
}

// add records msg at path, a document key path such as
// requirements[3].rule.conditions[0].field.
func (p *problems) add(path, format string, args ...any) {
	e := &Error{File: p.file, Line: yamlpath.LineOf(p.root, path), Msg: fmt.Sprintf(format, args...)}
	e.ID, e.Key = p.split(path)
	p.errs = append(p.errs, e)
}

// addLine records msg at a line known from the YAML decoder.
func (p *problems) addLine(line int, key string, atParent bool, msg string) {
	path := yamlpath.PathAt(p.root, line, key)
	if atParent {
		path = yamlpath.Parent(path)
	}
	e := &Error{File: p.file, Line: line, Msg: msg}
	e.ID, e.Key = p.split(path)
	p.errs = append(p.errs, e)
}

// split turns requirements[3].rule.x into the id of requirement 3 and rule.x.
var entryPath = regexp.MustCompile(`^([a-z_]+)\[(\d+)\]\.?(.*)$`)

func (p *problems) split(path string) (id, key string) {
	list := p.list
	if list == "" {
		list = "requirements"
	}
	m := entryPath.FindStringSubmatch(path)
	if m == nil || m[1] != list {
		return "", path
	}
	i, _ := strconv.Atoi(m[2])
	if n := yamlpath.NodeAt(p.root, list+"["+m[2]+"].id"); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
		return n.Value, m[3]
	}
	return fmt.Sprintf("%s[%d]", list, i), m[3]
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
