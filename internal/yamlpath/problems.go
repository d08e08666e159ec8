package yamlpath

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one complaint of yaml.v3's decoder, read into a line, the key
// it is about and words a person who writes the file understands.
type Problem struct {
	Line int    // 0 when the decoder gave none
	Key  string // the key the complaint names, if any
	// AtParent: the key itself is the mistake (an unknown key), so the
	// complaint belongs to the mapping that holds it.
	AtParent bool
	Msg      string
}

var (
	lineMsg      = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlLineMsg  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	dupKey       = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	cannot       = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into (\\S+)$")
)

// Problems reads a yaml.v3 decode error (a *yaml.TypeError with one line
// per complaint, or a syntax error) into problems, in the decoder's order.
func Problems(err error) []Problem {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		s := err.Error()
		if m := yamlLineMsg.FindStringSubmatch(s); m != nil {
			line, _ := strconv.Atoi(m[1])
			return []Problem{{Line: line, Msg: m[2]}}
		}
		return []Problem{{Msg: strings.TrimPrefix(s, "yaml: ")}}
	}
	var out []Problem
	for _, s := range te.Errors {
		m := lineMsg.FindStringSubmatch(s)
		if m == nil {
			out = append(out, Problem{Msg: s})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg := m[2]
		switch u := unknownField.FindStringSubmatch(msg); {
		case u != nil:
			out = append(out, Problem{Line: line, Key: u[1], AtParent: true, Msg: fmt.Sprintf("unknown key %q", u[1])})
			continue
		}
		if u := dupKey.FindStringSubmatch(msg); u != nil {
			out = append(out, Problem{Line: line, Key: u[1], Msg: "defined twice (first at line " + u[2] + ")"})
			continue
		}
		if u := cannot.FindStringSubmatch(msg); u != nil {
			msg = fmt.Sprintf("%q is not %s", u[1], TypeWords(u[2]))
		}
		out = append(out, Problem{Line: line, Msg: msg})
	}
	return out
}

// TypeWords names a Go type the way a person writing YAML thinks of it.
func TypeWords(goType string) string {
	t := strings.TrimPrefix(goType, "*")
	switch {
	case t == "bool":
		return "true or false"
	case t == "string":
		return "text"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "time.Duration":
		return "a duration such as 30s or 5m"
	case strings.HasPrefix(t, "map["), strings.Contains(t, "."):
		return "a mapping" // a map, or a struct of the package decoding
	}
	return "a " + goType
}
