package testenv

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// DropOutput makes the namespace drop each IPv4 packet it sends to dst with
// the given probability (0..1), the way netem would if this kernel had it.
// It uses iptables' statistic match, or nftables' numgen when iptables is
// missing. The returned function removes the rule; t.Cleanup also does.
func (n *Netns) DropOutput(t testing.TB, dst netip.Addr, probability float64) (remove func()) {
	t.Helper()
	if probability <= 0 || probability > 1 {
		t.Fatalf("DropOutput: probability %v outside (0, 1]", probability)
	}
	tool := "iptables"
	if _, err := exec.LookPath(tool); err != nil {
		tool = "nft"
		RequireBinary(t, tool)
	}
	return n.dropOutput(t, tool, dst, probability)
}

// dropOutput installs the rule with tool, "iptables" or "nft".
func (n *Netns) dropOutput(t testing.TB, tool string, dst netip.Addr, probability float64) (remove func()) {
	t.Helper()
	var add, del [][]string
	if tool == "iptables" {
		rule := []string{"OUTPUT", "-d", dst.String(), "-m", "statistic", "--mode", "random",
			"--probability", strconv.FormatFloat(probability, 'f', 4, 64), "-j", "DROP"}
		add = [][]string{append([]string{"iptables", "-w", "-A"}, rule...)}
		del = [][]string{append([]string{"iptables", "-w", "-D"}, rule...)}
	} else {
		table := fmt.Sprintf("probity_loss_%d", seq.Add(1))
		rule := []string{"nft", "add", "rule", "ip", table, "out", "ip", "daddr", dst.String()}
		if n := int(probability * 10000); n < 10000 { // numgen's range ends at mod-1
			rule = append(rule, "numgen", "random", "mod", "10000", "<", strconv.Itoa(n))
		}
		add = [][]string{
			{"nft", "add", "table", "ip", table},
			{"nft", "add", "chain", "ip", table, "out", "{ type filter hook output priority 0; }"},
			append(rule, "drop"),
		}
		del = [][]string{{"nft", "delete", "table", "ip", table}}
	}
	var once sync.Once
	remove = func() {
		once.Do(func() {
			for _, c := range del {
				// Not t.Context(): it is already cancelled when cleanups run.
				out, err := n.Command(context.Background(), c[0], c[1:]...).CombinedOutput()
				if err != nil {
					t.Errorf("removing loss rule in %s: %s: %v: %s", n.Name, strings.Join(c, " "), err, out)
				}
			}
		})
	}
	for _, c := range add {
		n.Run(t, c[0], c[1:]...)
	}
	t.Cleanup(remove)
	return remove
}
