package snmp

// growAfter is how many successful GETBULKs in a row double max-repetitions
// again after a timeout halved it.
const growAfter = 3

// repetitions is the adaptive GETBULK max-repetitions of one device. A
// timeout often means the response was too big for the device or the path
// (fragments dropped, a slow agent assembling a large PDU), so it halves;
// successes let it grow back towards the configured ceiling.
type repetitions struct {
	cur, max int
	streak   int // successes since the last change
}

func newRepetitions(max int) repetitions {
	if max < 1 {
		max = 1
	}
	return repetitions{cur: max, max: max}
}

// value is the max-repetitions for the next request.
func (r *repetitions) value() int { return r.cur }

// timedOut halves max-repetitions and reports whether it changed, i.e.
// whether retrying with a smaller request is worth it.
func (r *repetitions) timedOut() bool {
	r.streak = 0
	if r.cur <= 1 {
		return false
	}
	r.cur /= 2
	return true
}

// succeeded counts a success and doubles after growAfter of them.
func (r *repetitions) succeeded() {
	if r.cur >= r.max {
		return
	}
	r.streak++
	if r.streak >= growAfter {
		r.cur = min(r.cur*2, r.max)
		r.streak = 0
	}
}
