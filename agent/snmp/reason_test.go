package snmp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/gosnmp/gosnmp"
)

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), ReasonTimeout},
		{fmt.Errorf("request timeout (after 1 retries): %w", gosnmp.ErrMaxRetriesExceeded), ReasonTimeout},
		{&os.SyscallError{Syscall: "read", Err: os.ErrDeadlineExceeded}, ReasonTimeout},
		{fmt.Errorf("x: %w", gosnmp.ErrWrongDigest), ReasonAuth},
		{gosnmp.ErrUnknownUsername, ReasonAuth},
		{gosnmp.ErrDecryption, ReasonAuth},
		{fmt.Errorf("get: %w", fmt.Errorf("incoming packet is not authentic, discarding")), ReasonAuth},
		{fmt.Errorf("%w (%w)", ErrPrivacy, context.DeadlineExceeded), ReasonAuth},
		{fmt.Errorf("get: %w", &os.SyscallError{Syscall: "read", Err: syscall.ECONNREFUSED}), ReasonRefused},
		{errors.New("agent returned GenErr"), ReasonError},
	} {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
