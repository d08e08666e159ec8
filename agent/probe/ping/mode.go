package ping

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/icmp"
)

const groupRangeFile = "/proc/sys/net/ipv4/ping_group_range"

// groupRange is net.ipv4.ping_group_range: the groups allowed to open ICMP
// datagram sockets. The kernel's default, "1 0", is empty.
type groupRange struct{ Lo, Hi uint32 }

func (g groupRange) String() string { return fmt.Sprintf("%d %d", g.Lo, g.Hi) }

// covers reports whether any of gids is in the range.
func (g groupRange) covers(gids []int) bool {
	for _, gid := range gids {
		if gid >= 0 && uint64(gid) >= uint64(g.Lo) && uint64(gid) <= uint64(g.Hi) {
			return true
		}
	}
	return false
}

// parseGroupRange parses the sysctl's text: two unsigned numbers separated
// by white space.
func parseGroupRange(s string) (groupRange, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return groupRange{}, fmt.Errorf("ping_group_range %q: want two numbers", s)
	}
	lo, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return groupRange{}, fmt.Errorf("ping_group_range %q: %w", s, err)
	}
	hi, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		return groupRange{}, fmt.Errorf("ping_group_range %q: %w", s, err)
	}
	return groupRange{Lo: uint32(lo), Hi: uint32(hi)}, nil
}

// ourGroups are the groups the kernel checks against the range: the
// effective group and the supplementary ones.
func ourGroups() []int {
	gids := []int{os.Getegid()}
	if more, err := os.Getgroups(); err == nil {
		gids = append(gids, more...)
	}
	return gids
}

// unprivilegedAllowed says whether this process may open ICMP datagram
// sockets, and why, in words for the log and for errors. Opening one is the
// real test; the sysctl only explains the answer.
func unprivilegedAllowed() (bool, string) {
	why := "net.ipv4.ping_group_range unreadable"
	if b, err := os.ReadFile(groupRangeFile); err == nil {
		if g, err := parseGroupRange(string(b)); err == nil {
			verb := "excludes"
			if g.covers(ourGroups()) {
				verb = "covers"
			}
			why = fmt.Sprintf("net.ipv4.ping_group_range %q %s our groups %v", g.String(), verb, ourGroups())
		}
	}
	c, err := icmp.ListenPacket("udp4", "0.0.0.0")
	if err != nil {
		return false, fmt.Sprintf("%s; opening an ICMP datagram socket: %v", why, err)
	}
	c.Close()
	return true, why
}

// autoMode makes the choice of mode auto once per Prober and logs it.
type autoMode struct {
	once       sync.Once
	privileged bool
}

// socketMode returns whether to use raw (privileged) sockets. Mode
// unprivileged is checked at every run, so that fixing the sysctl needs no
// restart; it returns an error when the kernel refuses.
func (p *Prober) socketMode() (privileged bool, err error) {
	switch p.cfg.Mode {
	case ModePrivileged:
		return true, nil
	case ModeUnprivileged:
		if ok, why := unprivilegedAllowed(); !ok {
			return false, fmt.Errorf("ping: mode unprivileged: the kernel refuses ICMP datagram sockets (%s); "+
				"widen net.ipv4.ping_group_range or set mode: privileged", why)
		}
		return false, nil
	}
	p.auto.once.Do(func() {
		ok, why := unprivilegedAllowed()
		p.auto.privileged = !ok
		p.log.Info("ping: ICMP socket mode chosen", "icmp_mode", modeName(!ok), "reason", why)
	})
	return p.auto.privileged, nil
}

func modeName(privileged bool) string {
	if privileged {
		return ModePrivileged
	}
	return ModeUnprivileged
}
