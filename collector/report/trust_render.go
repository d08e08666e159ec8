package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the summary as a plain-text table for the terminal.
func (s *Summary) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Trust %q (id %d): %d %s; catalogue %s.\n\n", s.Trust.Name, s.Trust.ID, len(s.Schools), plural(len(s.Schools), "school", "schools"), s.Catalogue)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STANDARD\tCORE\tMEETING\tMOST COMMON GAP")
	for _, st := range s.Standards {
		core := "no"
		if st.Core {
			core = "yes"
		}
		gap := "-"
		if g := st.MostCommonGap; g != nil {
			gap = fmt.Sprintf("%s %s: %d of %d %s (%s)", g.ReqID, g.Title, g.Schools, g.Of, plural(g.Of, "school", "schools"), stateCounts(g.States))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d of %d\t%s\n", st.Name, core, st.Meeting, st.Schools, gap)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var unscored []string
	for _, sc := range s.Schools {
		if sc.Scored == nil {
			unscored = append(unscored, sc.ID)
		}
	}
	if len(unscored) > 0 {
		fmt.Fprintf(w, "\nNot scored yet (every requirement counts as a gap): %s.\n", strings.Join(unscored, ", "))
	}
	_, err := fmt.Fprintln(w, "\nA school meets a standard when every requirement of it that applies to the school is met or attested.")
	return err
}

// WriteJSON writes the summary as JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// stateCounts: "not met 2, not enough data 1", worst first.
func stateCounts(m map[string]int) string {
	states := make([]string, 0, len(m))
	for st := range m {
		states = append(states, st)
	}
	sort.Slice(states, func(i, j int) bool {
		if a, b := stateOrder(states[i]), stateOrder(states[j]); a != b {
			return a < b
		}
		return states[i] < states[j]
	})
	parts := make([]string, len(states))
	for i, st := range states {
		parts[i] = fmt.Sprintf("%s %d", strings.ToLower(stateLabel(st)), m[st])
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
