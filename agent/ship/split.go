package ship

import "bytes"

// lines counts the lines of a line protocol body.
func lines(body []byte) int {
	n := bytes.Count(body, []byte{'\n'})
	if len(body) > 0 && body[len(body)-1] != '\n' {
		n++
	}
	return n
}

// split cuts body in two at the line boundary nearest the middle line.
// Each half keeps its newlines. It needs at least two lines.
func split(body []byte, n int) (a, b []byte, na, nb int) {
	half := n / 2
	i := 0
	for range half {
		j := bytes.IndexByte(body[i:], '\n')
		i += j + 1
	}
	return body[:i], body[i:], half, n - half
}
