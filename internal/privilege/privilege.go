// Package privilege lets a command run as root by an administrator (sudo
// probity-collector setup, sudo probity-agent enrol) act as the service's
// own user where it touches the service's files, so a store or a
// credential created from the command line stays readable and writable by
// the service, which runs unprivileged.
package privilege

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// Owner is who owns a path.
type Owner struct {
	UID, GID int
}

// OwnerOf returns the owner of path.
func OwnerOf(path string) (Owner, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Owner{}, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return Owner{}, fmt.Errorf("privilege: no owner information for %s", path)
	}
	return Owner{UID: int(sys.Uid), GID: int(sys.Gid)}, nil
}

// ServiceOwner returns the owner of dir when the process runs as root and
// dir belongs to someone else (the service's user): the identity to act
// as. ok is false when there is nothing to change.
func ServiceOwner(dir string) (o Owner, ok bool, err error) {
	if os.Geteuid() != 0 {
		return Owner{}, false, nil
	}
	o, err = OwnerOf(dir)
	if err != nil {
		return Owner{}, false, err
	}
	return o, o.UID != 0, nil
}

// DropTo makes the whole process run as o from now on: supplementary
// groups cleared, then the group, then the user (Linux applies these to
// every thread). There is no way back.
func DropTo(o Owner) error {
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("privilege: clearing groups: %w", err)
	}
	if err := syscall.Setgid(o.GID); err != nil {
		return fmt.Errorf("privilege: setgid %d: %w", o.GID, err)
	}
	if err := syscall.Setuid(o.UID); err != nil {
		return fmt.Errorf("privilege: setuid %d: %w", o.UID, err)
	}
	return nil
}

// ServiceUser is the system user the Debian packages create for both
// services.
const ServiceUser = "probity"

// EnsureDir creates dir (mode perm) if it is missing. Run by root, a
// directory it creates is given to the service user when that user
// exists, so the service can write into it.
func EnsureDir(dir string, perm os.FileMode) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(ServiceUser)
	if err != nil {
		return nil // no service user: a hand-made install run as root
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// Chown gives path to o; a no-op when not root.
func Chown(path string, o Owner) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return os.Chown(path, o.UID, o.GID)
}
