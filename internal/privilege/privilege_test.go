package privilege

import (
	"os"
	"path/filepath"
	"testing"
)

func TestServiceOwner(t *testing.T) {
	dir := t.TempDir()
	o, err := OwnerOf(dir)
	if err != nil || o.UID != os.Geteuid() {
		t.Fatalf("OwnerOf(%s) = %+v, %v; want uid %d", dir, o, err, os.Geteuid())
	}
	if _, ok, err := ServiceOwner(dir); err != nil || ok {
		t.Fatalf("a directory of our own is nobody else's: ok=%v err=%v", ok, err)
	}
	if _, _, err := ServiceOwner(filepath.Join(dir, "missing")); err == nil && os.Geteuid() == 0 {
		t.Fatal("a missing directory has no owner")
	}
	if os.Geteuid() != 0 {
		t.Skip("the rest needs root: chown to another user")
	}
	svc := filepath.Join(dir, "svc")
	if err := os.Mkdir(svc, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(svc, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	o, ok, err := ServiceOwner(svc)
	if err != nil || !ok || o != (Owner{UID: 65534, GID: 65534}) {
		t.Fatalf("ServiceOwner of nobody's directory = %+v %v %v", o, ok, err)
	}
	f := filepath.Join(dir, "cred")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Chown(f, o); err != nil {
		t.Fatal(err)
	}
	if got, _ := OwnerOf(f); got != o {
		t.Fatalf("Chown gave %s to %+v, want %+v", f, got, o)
	}
	// EnsureDir leaves an existing directory alone.
	if err := EnsureDir(svc, 0o700); err != nil {
		t.Fatal(err)
	}
	if got, _ := OwnerOf(svc); got != o {
		t.Fatalf("EnsureDir changed an existing directory's owner to %+v", got)
	}
}
