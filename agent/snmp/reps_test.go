package snmp

import "testing"

func TestRepetitionsHalveAndGrow(t *testing.T) {
	r := newRepetitions(25)
	var got []int
	for range 6 {
		changed := r.timedOut()
		got = append(got, r.value())
		if r.value() == 1 && changed {
			continue
		}
		if r.value() == 1 && !changed {
			break
		}
	}
	want := []int{12, 6, 3, 1, 1}
	if len(got) != len(want) {
		t.Fatalf("halving gave %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("halving gave %v, want %v", got, want)
		}
	}
	if r.timedOut() {
		t.Error("timedOut at 1 must report no change (nothing smaller to retry with)")
	}
	// Growth: x2 after every growAfter successes, capped at the maximum.
	var grown []int
	for range 5 * growAfter {
		r.succeeded()
		grown = append(grown, r.value())
	}
	wantSteps := []int{2, 4, 8, 16, 25}
	for i, w := range wantSteps {
		if g := grown[(i+1)*growAfter-1]; g != w {
			t.Errorf("after %d successes value = %d, want %d (%v)", (i+1)*growAfter, g, w, grown)
		}
		if i > 0 {
			if g := grown[(i+1)*growAfter-2]; g != wantSteps[i-1] {
				t.Errorf("grew too early: %v", grown)
			}
		}
	}
	r.succeeded()
	if r.value() != 25 {
		t.Errorf("must stay at the maximum, got %d", r.value())
	}
	// A timeout in the middle of a streak restarts the count.
	r = newRepetitions(8)
	r.timedOut() // 4
	for range growAfter - 1 {
		r.succeeded()
	}
	r.timedOut() // 2
	for range growAfter - 1 {
		r.succeeded()
	}
	if r.value() != 2 {
		t.Errorf("streak should restart after a timeout: %d", r.value())
	}
	if r0 := newRepetitions(0); r0.value() != 1 {
		t.Error("a maximum below 1 must become 1")
	}
}
