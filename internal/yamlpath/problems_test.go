package yamlpath

import (
	"bytes"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestProblems(t *testing.T) {
	type inner struct {
		Count int `yaml:"count"`
	}
	var v struct {
		Name  string  `yaml:"name"`
		Items []inner `yaml:"items"`
		Ratio float64 `yaml:"ratio"`
	}
	doc := "name: x\nitems:\n  - count: many\n    colour: red\nratio: high\n"
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	err := dec.Decode(&v)
	if err == nil {
		t.Fatal("no error")
	}
	got := Problems(err)
	want := []Problem{
		{Line: 3, Msg: `"many" is not a whole number`},
		{Line: 4, Key: "colour", AtParent: true, Msg: `unknown key "colour"`},
		{Line: 5, Msg: `"high" is not a number`},
	}
	if len(got) != len(want) {
		t.Fatalf("problems %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("problem %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// A repeated key stops the decoder on its own.
	err = yaml.Unmarshal([]byte("name: x\nratio: 1\nname: y\n"), &v)
	if p := Problems(err); len(p) != 1 || p[0] != (Problem{Line: 3, Key: "name", Msg: "defined twice (first at line 1)"}) {
		t.Errorf("repeated key: %+v", p)
	}

	err = yaml.Unmarshal([]byte("a: [1, 2\n"), &v)
	if p := Problems(err); len(p) != 1 || p[0].Line == 0 || p[0].Key != "" {
		t.Errorf("syntax error: %+v", p)
	}
}

func TestTypeWords(t *testing.T) {
	for goType, want := range map[string]string{
		"bool": "true or false", "string": "text", "float64": "a number", "*int": "a whole number",
		"uint32": "a whole number", "[]string": "a list", "map[string]int": "a mapping",
		"profile.Table": "a mapping", "*standards.Rule": "a mapping", "time.Duration": "a duration such as 30s or 5m",
	} {
		if got := TypeWords(goType); got != want {
			t.Errorf("TypeWords(%s) = %q, want %q", goType, got, want)
		}
	}
}
