package standards

import (
	_ "embed"
	"sync"
)

var (
	//go:embed catalogue.yaml
	catalogueYAML []byte
	//go:embed measurements.yaml
	measurementsYAML []byte
)

var defaultCatalogue = sync.OnceValues(func() (*Catalogue, error) { return Load(catalogueYAML, "catalogue.yaml") })

// Default returns the embedded catalogue. It panics if the embedded file is
// invalid, which TestDefault rules out. Callers must not modify it.
func Default() *Catalogue {
	c, err := defaultCatalogue()
	if err != nil {
		panic(err)
	}
	return c
}
