package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a throwaway PostgreSQL server on a loopback port with a
// fresh cluster in a temporary directory, for tests of the PostgreSQL
// store. Its superuser is probity with trust authentication, so a DSN
// needs no password.
type Postgres struct {
	Port int
	Dir  string // the cluster's parent directory (data, socket, log)

	n atomic.Int64 // databases made by NewDatabase
}

// pgUser is the superuser of the test cluster.
const pgUser = "probity"

// PostgresBinDir returns the bin directory of the newest PostgreSQL that
// Debian's postgresql package installed, or "" without one.
func PostgresBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var best string
	bestV := -1
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err == nil && v > bestV && isExecutable(filepath.Join(d, "postgres")) && isExecutable(filepath.Join(d, "initdb")) {
			best, bestV = d, v
		}
	}
	if best == "" {
		if p, err := exec.LookPath("postgres"); err == nil && isExecutable(filepath.Join(filepath.Dir(p), "initdb")) {
			return filepath.Dir(p)
		}
	}
	return best
}

// StartPostgres initialises a cluster and starts postgres on a free
// loopback port, stopping it (SIGINT, a fast shutdown) when t ends. As root
// it runs initdb and postgres as the postgres system user, because both
// refuse to run as root. It skips (fails when required) without
// PostgreSQL's server binaries.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	// Durability is of no use to a test cluster; speed is.
	return startPostgres(t, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
}

// StartPostgresDurable is StartPostgres with the durability a benchmark
// compares fairly with the collector's SQLite (WAL, synchronous NORMAL):
// the log is fsynced in the background (synchronous_commit off: a crash
// loses the last commits, never the database), pages are written whole.
func StartPostgresDurable(t testing.TB) *Postgres {
	t.Helper()
	return startPostgres(t, "fsync=on", "synchronous_commit=off", "full_page_writes=on")
}

func startPostgres(t testing.TB, settings ...string) *Postgres {
	t.Helper()
	RequireIntegration(t, "a PostgreSQL server")
	bin := PostgresBinDir()
	if bin == "" {
		Unavailable(t, "PostgreSQL server binaries (initdb, postgres) are not installed: apt-get install postgresql")
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Unavailable(t, "running as root needs the postgres system user to run PostgreSQL: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// Not t.TempDir: its parents are 0700 root's, which the postgres user
	// cannot traverse.
	root, err := os.MkdirTemp("", "probity-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := os.Chown(root, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(root, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", pgUser,
		"--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = root
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, tail(string(out), 4000))
	}
	p := &Postgres{Port: freeTCPPort(t), Dir: root}
	var logs bytes.Buffer
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", root,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(p.Port),
		"-c", "max_connections=200", "-c", "shared_buffers=64MB")
	for _, kv := range settings {
		cmd.Args = append(cmd.Args, "-c", kv)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("postgres log:\n%s", tail(logs.String(), 4000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, p.DSN("postgres"))
		if err == nil {
			c.Close(ctx)
			cancel()
			return p
		}
		cancel()
		select {
		case err := <-exited:
			t.Fatalf("postgres exited: %v\n%s", err, tail(logs.String(), 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not accept connections on port %d: %v\n%s", p.Port, err, tail(logs.String(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// DSN is the URL of database db on p.
func (p *Postgres) DSN(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(pgUser), Host: "127.0.0.1:" + strconv.Itoa(p.Port),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates an empty database, probity_test_N, and returns its
// DSN; databases are cheap, so each subtest can have its own.
func (p *Postgres) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("probity_test_%d", p.n.Add(1))
	p.Exec(t, "postgres", `CREATE DATABASE `+name)
	return p.DSN(name)
}

// Exec runs SQL statements on database db as the superuser.
func (p *Postgres) Exec(t testing.TB, db string, sqls ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.DSN(db))
	if err != nil {
		t.Fatalf("connect to %s: %v", db, err)
	}
	defer c.Close(ctx)
	for _, q := range sqls {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s on %s: %v", q, db, err)
		}
	}
}

// Databases lists the databases of p, for tests of the helper itself.
func (p *Postgres) Databases(t testing.TB) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT datname FROM pg_database`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}
