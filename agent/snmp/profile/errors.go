package profile

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

var (
	lineMsg      = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlLineMsg  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	dupKey       = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	cannot       = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into (\\S+)$")
)

// typeWords names a Go type the way a profile author thinks of it.
func typeWords(goType string) string {
	switch {
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "text"
	case strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "*float"):
		return "a number"
	case strings.HasPrefix(goType, "int"):
		return "a whole number"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a mapping"
}

// decodeError turns a yaml.v3 error into Errors with lines and keys.
func (p *problems) decodeError(err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, s := range te.Errors {
			m := lineMsg.FindStringSubmatch(s)
			if m == nil {
				p.errs = append(p.errs, &Error{File: p.file, Msg: s})
				continue
			}
			line, _ := strconv.Atoi(m[1])
			msg := m[2]
			if u := unknownField.FindStringSubmatch(msg); u != nil {
				p.addLine(line, u[1], true, fmt.Sprintf("unknown key %q", u[1]))
				continue
			}
			if u := dupKey.FindStringSubmatch(msg); u != nil {
				p.addLine(line, u[1], false, "defined twice (first at line "+u[2]+")")
				continue
			}
			if u := cannot.FindStringSubmatch(msg); u != nil {
				msg = fmt.Sprintf("%q is not %s", u[1], typeWords(u[2]))
			}
			p.addLine(line, "", false, msg)
		}
		return
	}
	s := err.Error()
	if m := yamlLineMsg.FindStringSubmatch(s); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: m[2]})
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Msg: strings.TrimPrefix(s, "yaml: ")})
}
