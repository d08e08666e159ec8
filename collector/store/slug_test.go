package store

import "testing"

func TestSlugify(t *testing.T) {
	cases := map[string]string{
		"Oak Primary":               "oak-primary",
		"St Mary's C of E Primary":  "st-marys-c-of-e-primary",
		"  --Weird__Name!!  ":       "weird-name",
		"Ørsted":                    "rsted",
		"学校":                        "site",
		"":                          "site",
		"Year 7 & 8 Centre (North)": "year-7-8-centre-north",
	}
	for in, want := range cases {
		if got := Slugify(in); got != want || !ValidSlug(got) {
			t.Errorf("Slugify(%q) = %q (valid %v), want %q", in, got, ValidSlug(got), want)
		}
	}
	long := Slugify("a very long school name that goes on and on and on past any sensible limit")
	if len(long) > MaxSlug-8 || !ValidSlug(long) {
		t.Errorf("long slug %q (%d) is not a valid slug leaving room for a suffix", long, len(long))
	}
}
