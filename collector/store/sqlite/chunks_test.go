package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

func TestChunkLinesRoundTrip(t *testing.T) {
	type pt struct {
		sid, ns int64
		fields  string
	}
	in := []pt{{7, 1_000, `{"rtt_ms":1.5}`}, {8, 1_000, `{"in":{"u":18446744073709551615},"name":"a b\nc"}`}, {7, 3_600_000, `{"ok":true}`}}
	var data []byte
	for _, p := range in {
		// A raw string: the fields hold a backslash and n, as rowcodec
		// escapes a newline, never a newline itself.
		data = appendChunkLine(data, p.sid, p.ns-1_000, []byte(p.fields))
	}
	var out []pt
	err := eachChunkPoint(data, 1_000, func(sid, ns int64, fields []byte) error {
		out = append(out, pt{sid, ns, string(fields)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d points, want %d: %v", len(out), len(in), out)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("point %d = %+v, want %+v", i, out[i], in[i])
		}
	}
}

func TestChunkLinesMalformed(t *testing.T) {
	for _, data := range []string{"7 0\n", "x 0 {}\n", "7 y {}\n", "7 0 {}\n8\n", "99999999999999999999 0 {}\n", "7  {}\n"} {
		err := eachChunkPoint([]byte(data), 0, func(int64, int64, []byte) error { return nil })
		if !errors.Is(err, errBadChunk) {
			t.Errorf("%q: err = %v, want errBadChunk", data, err)
		}
	}
	n, err := atoi([]byte("9223372036854775807"))
	if err != nil || n != math.MaxInt64 {
		t.Errorf("atoi(max int64) = %d, %v", n, err)
	}
}

// A chunk's lines are packed when that makes them smaller and read back the
// same; short or incompressible lines are kept as they are, which is also
// how every chunk written before packing reads.
func TestChunkPacking(t *testing.T) {
	var lines []byte
	for sid := int64(1); sid <= 48; sid++ {
		lines = appendChunkLine(lines, sid, 0, []byte(`{"admin_up":true,"duplex":"full","in_bps":36477460.2,"oper_up":true,"speed_mbps":1000}`))
	}
	data := packChunk(nil, lines)
	if data[0] != chunkS2 || len(data) > len(lines)/3 {
		t.Fatalf("48 interface lines (%d bytes) packed to %d bytes, first byte %#x: want S2 and under a third", len(lines), len(data), data[0])
	}
	var got []byte
	err := eachChunkPoint(data, 5, func(sid, ns int64, fields []byte) error {
		got = appendChunkLine(got, sid, ns-5, fields)
		return nil
	})
	if err != nil || !bytes.Equal(got, lines) {
		t.Fatalf("packed chunk read back %d bytes (%v), want the %d written", len(got), err, len(lines))
	}
	short := appendChunkLine(nil, 7, 0, []byte(`{"rtt_ms":1.5}`))
	if d := packChunk(nil, short); !bytes.Equal(d, short) {
		t.Errorf("a %d-byte chunk was packed: %q", len(short), d)
	}
	noise := make([]byte, 4096)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(noise)
	if d := packChunk(nil, noise); !bytes.Equal(d, noise) {
		t.Errorf("incompressible lines were packed to %d bytes", len(d))
	}
	for _, bad := range [][]byte{{chunkS2}, {chunkS2, 0xff, 0xff, 0xff, 0xff, 0x0f}, append([]byte{chunkS2}, data[1:len(data)-3]...)} {
		if err := eachChunkPoint(bad, 0, func(int64, int64, []byte) error { return nil }); !errors.Is(err, errBadChunk) {
			t.Errorf("%x: err = %v, want errBadChunk", bad, err)
		}
	}
}

// chunkPoint is one point read back from the chunks table.
type chunkPoint struct {
	gid, sid, ns int64
	fields       string
}

// chunkPoints reads every stored point, for tests that look at the table.
func chunkPoints(t testing.TB, db *sql.DB) []chunkPoint {
	t.Helper()
	rows, err := db.Query(`SELECT gid, t0, data FROM chunks ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []chunkPoint
	for rows.Next() {
		var gid, t0 int64
		var data []byte
		if err := rows.Scan(&gid, &t0, &data); err != nil {
			t.Fatal(err)
		}
		err := eachChunkPoint(data, t0, func(sid, ns int64, fields []byte) error {
			out = append(out, chunkPoint{gid, sid, ns, string(fields)})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A batch is stored as a chunk a stream and hour: one crossing an hour, or
// holding more than maxChunkPoints of a stream, takes several, and every
// point reads back once, in time order, with its tags.
func TestWriteBatchChunks(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	a := benchAgent(t, s)
	var pts []point.Point
	// Newest first: chunks keep the batch's order, Points sorts.
	for i := maxChunkPoints + 10; i > 0; i-- {
		pts = append(pts, benchPoint(a, i%7, benchT0.Add(time.Duration(i)*time.Second)))
	}
	pts = append(pts, point.Point{Measurement: "dns", Tags: map[string]string{"site": a.SiteID, "agent": a.ID, "server": "r1"},
		Fields: map[string]any{"ms": 3.5}, Time: benchT0.Add(90 * time.Minute)})
	if dup, err := s.WriteBatch(ctx, store.Batch{ID: "chunky-1", Agent: a, Points: pts}, benchT0); err != nil || dup {
		t.Fatalf("WriteBatch = %v, %v", dup, err)
	}
	var chunks, stored int
	if err := s.r.QueryRow(`SELECT COUNT(*), SUM(n) FROM chunks`).Scan(&chunks, &stored); err != nil {
		t.Fatal(err)
	}
	// ping: 1,010 points in benchT0's hour (benchT0 is on the hour) make
	// two chunks; dns: one.
	if chunks != 3 || stored != len(pts) {
		t.Errorf("%d chunks holding %d points, want 3 holding %d", chunks, stored, len(pts))
	}
	// ping's are packed; dns's one line is not.
	var packed int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM chunks WHERE substr(data, 1, 1) = x'01'`).Scan(&packed); err != nil || packed != 2 {
		t.Errorf("%d chunks packed (%v), want 2", packed, err)
	}
	got, err := s.Points(ctx, store.PointQuery{Site: a.SiteID, Measurement: "ping", Tags: map[string]string{"target": "host-03.school.example"},
		From: benchT0, To: benchT0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := 1; i <= maxChunkPoints+10; i++ {
		if i%7 == 3 {
			want++
		}
	}
	if len(got) != want {
		t.Fatalf("Points(target=host-03) = %d points, want %d", len(got), want)
	}
	for i, p := range got {
		if p.Tags["target"] != "host-03.school.example" || p.Tags["site"] != a.SiteID || p.Fields["sent"] != int64(20) {
			t.Fatalf("point %d = %+v", i, p)
		}
		if i > 0 && !got[i-1].Time.Before(p.Time) {
			t.Fatalf("points out of time order at %d: %v then %v", i, got[i-1].Time, p.Time)
		}
	}
	// A range inside a chunk returns only the points inside it.
	got, err = s.Points(ctx, store.PointQuery{Site: a.SiteID, Measurement: "ping", From: benchT0.Add(10 * time.Second), To: benchT0.Add(20 * time.Second)})
	if err != nil || len(got) != 10 {
		t.Fatalf("Points over 10 s = %d, %v; want 10", len(got), err)
	}
	got, err = s.Points(ctx, store.PointQuery{Site: a.SiteID, Measurement: "dns", From: benchT0.Add(time.Hour), To: benchT0.Add(2 * time.Hour)})
	if err != nil || len(got) != 1 || got[0].Fields["ms"] != 3.5 {
		t.Fatalf("Points(dns) = %+v, %v", got, err)
	}
}

// Migration 0010 turns 0009's point rows into chunks (a stream's minute
// each), times before 1970 in their own hour, and nothing is lost.
func TestMigrate0010MakesChunks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v9.db")
	w := openBefore(t, path, 10)
	t0 := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	before1970 := time.Date(1969, 12, 31, 23, 59, 30, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO streams(id, site, measurement) VALUES (1, 'oak', 'ping'), (2, 'oak', 'dns')`,
		`INSERT INTO series(id, site, agent, measurement, series, tags) VALUES
			(10, 'oak', 'a', 'ping', 'ping,target=gw', '{"agent":"a","site":"oak","target":"gw"}'),
			(11, 'oak', 'a', 'ping', 'ping,target=dns', '{"agent":"a","site":"oak","target":"dns"}'),
			(20, 'oak', 'a', 'dns', 'dns', '{"agent":"a","site":"oak"}')`,
	} {
		if _, err := w.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows := []struct {
		gid, sid int64
		at       time.Time
		fields   string
	}{
		{1, 10, t0.Add(5 * time.Second), `{"rtt_ms":5}`},
		{1, 11, t0.Add(5 * time.Second), `{"rtt_ms":6}`},
		{1, 10, t0.Add(30 * time.Second), `{"rtt_ms":7}`},
		{1, 10, t0.Add(61 * time.Second), `{"ok":false,"rtt_ms":{"i":9}}`},
		{2, 20, t0.Add(5 * time.Second), `{"ms":1.5}`},
		{1, 10, before1970, `{"rtt_ms":1}`},
	}
	for _, r := range rows {
		if _, err := w.Exec(`INSERT INTO points(gid, sid, time, fields) VALUES (?, ?, ?, ?)`, r.gid, r.sid, r.at.UnixNano(), r.fields); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	defer s.Close()
	var chunks int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM chunks`).Scan(&chunks); err != nil || chunks != 4 {
		t.Errorf("chunks = %d (%v), want 4: ping's first minute, its second, dns, and 1969", chunks, err)
	}
	var hour int64
	if err := s.r.QueryRow(`SELECT hour FROM chunks WHERE t0 < 0`).Scan(&hour); err != nil || hour != before1970.Truncate(time.Hour).UnixNano() {
		t.Errorf("1969's chunk is in hour %d (%v), want %d", hour, err, before1970.Truncate(time.Hour).UnixNano())
	}
	got := chunkPoints(t, s.r)
	if len(got) != len(rows) {
		t.Fatalf("%d points after migrating, want %d: %+v", len(got), len(rows), got)
	}
	for _, r := range rows {
		if !slices.Contains(got, chunkPoint{r.gid, r.sid, r.at.UnixNano(), r.fields}) {
			t.Errorf("point %+v lost in migrating; have %+v", r, got)
		}
	}
	pts, err := s.Points(ctx, store.PointQuery{Site: "oak", Measurement: "ping", Tags: map[string]string{"target": "gw"}, From: t0, To: t0.Add(time.Hour)})
	if err != nil || len(pts) != 3 || pts[2].Fields["rtt_ms"] != int64(9) {
		t.Fatalf("Points(ping, target=gw) after migrating = %+v, %v", pts, err)
	}
}
