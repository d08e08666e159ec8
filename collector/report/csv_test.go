package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
)

// TestWriteCSV: the CSV parses back to one line per requirement and
// figure with the verdict, the figure, the attestation and the action.
func TestWriteCSV(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	rep, err := BuildWith(context.Background(), st, testCatalogue(), "oak", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(rep.Rows) || len(recs[0]) != len(csvHeader) || recs[0][2] != "requirement" {
		t.Fatalf("%d records, header %v", len(recs), recs[0])
	}
	byID := map[string]map[string]string{}
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		byID[m["requirement"]] = m
	}
	for id, want := range map[string]map[string]string{
		"BB-2": {"site": "oak", "standard": "broadband", "state": "met", "condition": "Download speed", "statistic": "median",
			"value": "123.45", "unit": "Mbit/s", "threshold": "100", "op": "ge", "samples": "20", "met": "yes", "action": "", "attested_by": ""},
		"DL-1": {"state": "attested", "evidence_type": "attested", "attested_by": "Pat Green (headteacher)", "attested_on": "2026-05-01",
			"expires": "2027-05-01", "condition": "", "value": ""},
		"CY-1": {"state": "attestation_expired", "expires": "2026-05-01", "due": "Now",
			"action": "Renew the attestation: Expired on 1 May 2026; it needs renewing."},
		"FM-15": {"state": "not_enough_data", "condition": "", "attested_by": "Lee IT (IT lead)"},
	} {
		got := byID[id]
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s %s = %q, want %q", id, k, got[k], v)
			}
		}
	}
}
