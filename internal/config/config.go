// Package config loads a component's YAML configuration the same way for the
// agent and the collector: defaults first, then the file decoded strictly
// (an unknown or mistyped key is an error naming file, line and key), then
// PROBITY_* environment variables and command-line flags resolved through
// viper, then the component's own Validate. Components receive typed structs
// and never see viper.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/yamlpath"
)

// Validator is implemented by every configuration root.
type Validator interface {
	Validate() error
}

// Finisher is implemented by configuration roots that need the parsed
// document after the strict decode, for example to give elements of a list
// their defaults (yaml.v3 decodes list elements from zero values).
type Finisher interface {
	FinishYAML(root *yaml.Node) error
}

// Error is one configuration problem with its place.
type Error struct {
	File string
	Line int    // 0 when the key is not in the file (a default, env or flag)
	Path string // yaml key path
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Options tune Load.
type Options struct {
	EnvPrefix string         // default "PROBITY"
	Flags     *pflag.FlagSet // flags named like keys (log.level) override the file
}

// Load fills dst (which already holds the defaults) from the YAML file at
// path (skipped when path is empty), the environment and flags, then
// validates it. Every returned problem is an *Error; several are joined.
func Load(path string, dst Validator, o Options) error {
	if o.EnvPrefix == "" {
		o.EnvPrefix = "PROBITY"
	}
	var root *yaml.Node
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", err)}
		}
		root, err = decodeStrict(path, data, dst)
		if err != nil {
			return err
		}
		if f, ok := dst.(Finisher); ok {
			if err := f.FinishYAML(root); err != nil {
				return locate(path, root, nil, err)
			}
		}
	}
	overridden, err := overlay(dst, o)
	if err != nil {
		return err
	}
	if err := dst.Validate(); err != nil {
		return locate(path, root, overridden, err)
	}
	return nil
}

var lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)
var unknownRe = regexp.MustCompile(`^field (\S+) not found in type`)

// decodeStrict decodes data into dst rejecting unknown keys, and turns
// yaml.v3's messages into file:line: path: message.
func decodeStrict(file string, data []byte, dst any) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(file, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &root, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(dst)
	if err == nil {
		return &root, nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return nil, syntaxError(file, err)
	}
	var out []error
	for _, msg := range te.Errors {
		e := &Error{File: file, Msg: msg}
		if m := lineRe.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
			if u := unknownRe.FindStringSubmatch(m[2]); u != nil {
				e.Msg = fmt.Sprintf("unknown key %q (check its spelling and indentation)", u[1])
				e.Path = keyPath(&root, e.Line, u[1])
			} else {
				e.Path = yamlpath.PathAt(&root, e.Line, "")
			}
		}
		out = append(out, e)
	}
	return nil, errors.Join(out...)
}

func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: file, Msg: msg}
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	return e
}

// locate maps validation errors to lines of the file, or to the
// environment variable or flag that set the key.
func locate(file string, root *yaml.Node, overridden map[string]string, err error) error {
	var out []error
	for _, e := range cfgerr.Flatten(err) {
		var fe *cfgerr.Error
		ce := &Error{File: file, Msg: e.Error()}
		if errors.As(e, &fe) {
			ce.Path, ce.Msg = fe.Path, fe.Msg
			if src, ok := overridden[fe.Path]; ok {
				ce.File = src
			} else {
				ce.Line = yamlpath.LineOf(root, fe.Path)
			}
		}
		out = append(out, ce)
	}
	return errors.Join(out...)
}

// ReadFile is a convenience for callers that only need the raw bytes with
// a clear error (kept here so messages look alike).
func ReadFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", err)}
	}
	return b, nil
}

// overlay applies PROBITY_* environment variables and changed flags to the
// scalar keys of dst (keys inside lists are set in the file only). It
// returns which keys it set and from where.
func overlay(dst any, o Options) (map[string]string, error) {
	set := map[string]string{}
	v := viper.New()
	v.SetEnvPrefix(o.EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	var out []error
	walkScalars(reflect.ValueOf(dst).Elem(), "", func(key string, field reflect.Value) {
		if err := v.BindEnv(key); err != nil {
			out = append(out, err)
			return
		}
		if o.Flags != nil {
			if f := o.Flags.Lookup(key); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					out = append(out, err)
					return
				}
			}
		}
		if !v.IsSet(key) {
			return
		}
		src := o.EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
		if o.Flags != nil && o.Flags.Lookup(key) != nil && o.Flags.Lookup(key).Changed {
			src = "--" + key
		}
		set[key] = src
		if err := setScalar(field, v.GetString(key)); err != nil {
			out = append(out, &Error{File: src, Path: key, Msg: err.Error()})
		}
	})
	return set, errors.Join(out...)
}
