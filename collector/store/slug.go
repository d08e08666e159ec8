package store

import "strings"

// MaxSlug is the longest site id.
const MaxSlug = 64

// ValidSlug says whether id is a site id: 1 to MaxSlug of [a-z0-9-], not
// starting or ending with a hyphen.
func ValidSlug(id string) bool {
	if id == "" || len(id) > MaxSlug || id[0] == '-' || id[len(id)-1] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Slugify keeps ASCII letters and digits of name, lower-cased, and joins
// the runs between them with single hyphens.
func Slugify(name string) string {
	var b []byte
	for _, r := range strings.ToLower(name) {
		switch {
		case r == '\'' || r == '’':
			// "St Mary's" reads better as st-marys than st-mary-s.
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b = append(b, byte(r))
		case len(b) > 0 && b[len(b)-1] != '-':
			b = append(b, '-')
		}
	}
	slug := strings.Trim(string(b), "-")
	// Leave room for a "-NNN" suffix.
	if len(slug) > MaxSlug-8 {
		slug = strings.TrimRight(slug[:MaxSlug-8], "-")
	}
	if slug == "" {
		slug = "site"
	}
	return slug
}
