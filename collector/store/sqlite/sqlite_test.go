package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "probity.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openBefore makes a database at path with the migrations before version
// applied, as an earlier build left it, and returns its writer: tests of a
// migration fill it, close it and Open the path.
func openBefore(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range ms {
		if m.version < version {
			before = append(before, m)
		}
	}
	w, err := sql.Open("sqlite", dsn(path, []string{"journal_mode(WAL)", "foreign_keys(1)"}, "immediate"))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	s := &Store{w: w, log: slog.New(slog.DiscardHandler)}
	if err := s.applyMigrations(context.Background(), before); err != nil {
		w.Close()
		t.Fatal(err)
	}
	return w
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func latestVersion(t *testing.T) int {
	t.Helper()
	ms, err := loadMigrations(migrationFS)
	if err != nil || len(ms) == 0 {
		t.Fatalf("embedded migrations: %v (%d files)", err, len(ms))
	}
	return ms[len(ms)-1].version
}

type appliedRow struct {
	version int
	name    string
	at      int64
}

func applied(t *testing.T, s *Store) []appliedRow {
	t.Helper()
	rows, err := s.r.Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []appliedRow
	for rows.Next() {
		var r appliedRow
		if err := rows.Scan(&r.version, &r.name, &r.at); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestMigrateFresh(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	got := applied(t, s)
	if len(got) == 0 || got[len(got)-1].version != latestVersion(t) || got[0].name != "0001_init.sql" {
		t.Fatalf("schema_migrations = %+v, want up to version %d", got, latestVersion(t))
	}
	for _, table := range []string{"trusts", "sites", "agents", "enrol_tokens", "batches", "chunks",
		"rollups_hourly", "verdicts", "verdict_history", "attestations"} {
		var n int
		if err := s.r.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: found %d, %v", table, n, err)
		}
	}
	var mode string
	if err := s.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
}

func TestMigrateReopenIsNoop(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "odd name?#%.db") // the DSN must escape it
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := s.CreateTrust(ctx, "Kept Trust"); err != nil {
		t.Fatalf("CreateTrust: %v", err)
	}
	before := applied(t, s)
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at the given path: %v", err)
	}

	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	after := applied(t, s)
	if len(after) != len(before) || after[len(after)-1] != before[len(before)-1] {
		t.Errorf("reopen changed schema_migrations: %+v -> %+v", before, after)
	}
	if _, err := s.TrustByName(ctx, "Kept Trust"); err != nil {
		t.Errorf("data lost across reopen: %v", err)
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "probity.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := s.w.Exec(`INSERT INTO schema_migrations(version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path, Options{})
	if err == nil {
		t.Fatal("Open accepted a database from a newer build")
	}
	for _, want := range []string{"9999", "(" + strconv.Itoa(latestVersion(t)) + ")", "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// A migration that fails leaves the database at the previous version, with
// none of its statements applied.
func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	v := latestVersion(t)
	bad := []migration{{version: v + 1, name: "bad.sql", sql: `CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;`}}
	if err := s.applyMigrations(ctx, bad); err == nil || !strings.Contains(err.Error(), "bad.sql") {
		t.Fatalf("applyMigrations(bad) = %v, want an error naming bad.sql", err)
	}
	if got := applied(t, s); got[len(got)-1].version != v {
		t.Errorf("version after failed migration = %d, want %d", got[len(got)-1].version, v)
	}
	var n int
	s.r.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name = 'half_done'`).Scan(&n)
	if n != 0 {
		t.Error("the failed migration's first statement was kept")
	}
}

func TestLoadMigrationsNames(t *testing.T) {
	cases := []struct {
		name    string
		files   []string
		want    []int
		wantErr string
	}{
		{"ordered by number", []string{"0002_b.sql", "0010_c.sql", "0001_a.sql"}, []int{1, 2, 10}, ""},
		{"no number", []string{"init.sql"}, nil, "NNNN_name.sql"},
		{"zero", []string{"0000_x.sql"}, nil, "NNNN_name.sql"},
		{"duplicate version", []string{"0001_a.sql", "01_b.sql"}, nil, "share version 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			ms, err := loadMigrations(fsys)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("versions %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("versions %v, want %v", got, tc.want)
				}
			}
		})
	}
}
