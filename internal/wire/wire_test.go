package wire

import (
	"net/http"
	"testing"
)

func TestBatchIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := NewBatchID()
		if !ValidBatchID(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "short", "has space in it", "semi;colon123", string(make([]byte, 65))} {
		if ValidBatchID(bad) {
			t.Errorf("ValidBatchID(%q) = true", bad)
		}
	}
	if !ValidBatchID("abcdef12-1-2") {
		t.Error("split batch ids must stay valid")
	}
}

func TestBearerToken(t *testing.T) {
	f := func(header, want string, ok bool) {
		t.Helper()
		r, _ := http.NewRequest("POST", "http://127.0.0.1/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		got, err := BearerToken(r)
		if (err == nil) != ok || got != want {
			t.Fatalf("%q: got %q, %v", header, got, err)
		}
	}
	f("Bearer abc", "abc", true)
	f("bearer  abc ", "abc", true)
	f("Token abc", "abc", true)
	f("Basic abc", "", false)
	f("Bearer ", "", false)
	f("", "", false)
}
