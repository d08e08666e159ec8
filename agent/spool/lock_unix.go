//go:build unix

package spool

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock on f, so a second process (the
// service and a CLI command, say) cannot ship or delete the same batches.
func lockDir(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}
