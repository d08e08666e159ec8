package testenv

import (
	"context"
	"errors"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTBFBurst(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want int64
	}{
		{10e6, 64 << 10},
		{100e6, 64 << 10}, // 50 kB of tokens in 4 ms: the floor wins
		{500e6, 250_000},  // 4 ms at 500 Mbit/s
		{1e9, 500_000},    // the rig used 512 KiB
	} {
		if got := tbfBurst(tc.rate); got != tc.want {
			t.Errorf("tbfBurst(%g) = %d, want %d", tc.rate, got, tc.want)
		}
	}
}

func TestParseIperf3JSON(t *testing.T) {
	// Trimmed from iperf3 3.12 -c ... --json -R over a 100 Mbit/s tbf link.
	tcp := `{"start":{"test_start":{"protocol":"TCP","num_streams":1,"reverse":1}},
	"end":{"streams":[],
	  "sum_sent":{"start":0,"end":2.000976,"seconds":2.000976,"bytes":24856368,"bits_per_second":99376976.03569457,"retransmits":3,"sender":false},
	  "sum_received":{"start":0,"end":2.000641,"seconds":2.000641,"bytes":23978880,"bits_per_second":95884788.9251495,"sender":false},
	  "cpu_utilization_percent":{"host_total":2.222147901595941,"host_user":0.49,"host_system":1.73,"remote_total":0.6530251200027987,"remote_user":0,"remote_system":0.65}}}`
	r, err := ParseIperf3JSON([]byte(tcp))
	if err != nil {
		t.Fatal(err)
	}
	want := Iperf3Result{ReceivedBitsPerSecond: 95884788.9251495, SentBitsPerSecond: 99376976.03569457, ReceivedBytes: 23978880,
		Seconds: 2.000641, Retransmits: 3, HostCPU: 2.222147901595941, RemoteCPU: 0.6530251200027987, Reverse: true, Protocol: "TCP"}
	if r != want {
		t.Fatalf("got  %+v\nwant %+v", r, want)
	}

	udp := `{"start":{"test_start":{"protocol":"UDP","reverse":0}},
	"end":{"sum":{"start":0,"end":5,"seconds":5,"bytes":62500000,"bits_per_second":100000000,"jitter_ms":0.01,"lost_packets":100,"packets":10000,"lost_percent":2.5},
	  "cpu_utilization_percent":{"host_total":10,"remote_total":5}}}`
	if r, err = ParseIperf3JSON([]byte(udp)); err != nil {
		t.Fatal(err)
	}
	if r.Protocol != "UDP" || r.LostPercent != 2.5 || r.ReceivedBitsPerSecond != 97_500_000 || r.SentBitsPerSecond != 100_000_000 || r.HostCPU != 10 {
		t.Fatalf("UDP: %+v", r)
	}

	for name, bad := range map[string]string{
		"error":    `{"start":{},"end":{},"error":"unable to connect to server: Connection refused"}`,
		"no sums":  `{"start":{},"end":{}}`,
		"not json": `iperf3: error - unable to connect`,
	} {
		if _, err := ParseIperf3JSON([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "error" && !strings.Contains(err.Error(), "Connection refused") {
			t.Errorf("error report: %v, want iperf3's message", err)
		}
	}
}

// pingStats is what ping's summary and reply lines say.
type pingStats struct {
	sent, received int
	rtts           []time.Duration
}

var (
	pingReplyRe = regexp.MustCompile(`time=([0-9.]+) ms`)
	pingSumRe   = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)
)

// ping runs ping(8) inside the client namespace to addr; lost replies
// (ping's exit status 1) are an outcome, not an error.
func ping(t *testing.T, l *ShapedLink, args ...string) pingStats {
	t.Helper()
	bin := RequireBinary(t, "ping")
	args = append([]string{"-n"}, append(args, l.ServerAddr.String())...)
	out, err := l.Client.Command(context.Background(), bin, args...).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		t.Fatalf("ping %s: %v: %s", strings.Join(args, " "), err, out)
	}
	var s pingStats
	m := pingSumRe.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no summary in ping output:\n%s", out)
	}
	s.sent, _ = strconv.Atoi(m[1])
	s.received, _ = strconv.Atoi(m[2])
	for _, m := range pingReplyRe.FindAllStringSubmatch(string(out), -1) {
		ms, _ := strconv.ParseFloat(m[1], 64)
		s.rtts = append(s.rtts, time.Duration(ms*float64(time.Millisecond)))
	}
	return s
}

func minMax(ds []time.Duration) (lo, hi time.Duration) {
	lo, hi = ds[0], ds[0]
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
	}
	return lo, hi
}

func TestIntegrationShapedLink100Mbit(t *testing.T) {
	RequireIntegration(t, "network namespaces, tc and iperf3")
	l := NewShapedLink(t, LinkOptions{Rate: 100e6})
	t.Log(l)
	port := l.Server.StartIperf3Server(t, l.ServerAddr)
	for _, dir := range []struct {
		name string
		args []string
	}{
		{"client to server", []string{"-t", "4"}},
		{"server to client", []string{"-t", "4", "-R"}},
	} {
		r := RunIperf3Client(t, l.Client, l.ServerAddr, port, dir.args...)
		t.Logf("%s: %.1f Mbit/s received, %d retransmits, CPU %.1f%% client %.1f%% server",
			dir.name, r.ReceivedBitsPerSecond/1e6, r.Retransmits, r.HostCPU, r.RemoteCPU)
		if r.ReceivedBitsPerSecond < 90e6 || r.ReceivedBitsPerSecond > 100e6 {
			t.Errorf("%s: %.1f Mbit/s through a 100 Mbit/s link, want 90-100", dir.name, r.ReceivedBitsPerSecond/1e6)
		}
		if r.Reverse != slices.Contains(dir.args, "-R") || r.Protocol != "TCP" || r.Seconds < 3.5 {
			t.Errorf("%s: report %+v does not match the test asked for", dir.name, r)
		}
	}
}

func TestIntegrationUnshapedLinkIsFast(t *testing.T) {
	RequireIntegration(t, "network namespaces and iperf3")
	// The contrast that shows tbf, not the veth, limits the shaped link.
	l := NewShapedLink(t, LinkOptions{})
	port := l.Server.StartIperf3Server(t, l.ServerAddr)
	r := RunIperf3Client(t, l.Client, l.ServerAddr, port, "-t", "2")
	t.Logf("unshaped: %.0f Mbit/s", r.ReceivedBitsPerSecond/1e6)
	if r.ReceivedBitsPerSecond < 500e6 {
		t.Fatalf("unshaped veth gave %.0f Mbit/s, want well above 500", r.ReceivedBitsPerSecond/1e6)
	}
	if out := l.Client.Run(t, "tc", "qdisc", "show", "dev", l.ClientIf); strings.Contains(out, "tbf") {
		t.Fatalf("unshaped link has a tbf qdisc: %s", out)
	}
}

func TestIntegrationShapedLinkDelay(t *testing.T) {
	RequireIntegration(t, "network namespaces, tc, ethtool and iperf3")
	l := NewShapedLink(t, LinkOptions{Rate: 100e6, Delay: 20 * time.Millisecond})
	t.Log(l)
	if l.Router == nil {
		t.Fatal("a link with delay has no router namespace")
	}
	s := ping(t, l, "-c", "5", "-i", "0.2", "-W", "2")
	if s.received != 5 || len(s.rtts) != 5 {
		t.Fatalf("%d of %d pings answered through the bridge, want 5", s.received, s.sent)
	}
	lo, hi := minMax(s.rtts)
	t.Logf("RTT %s to %s", lo, hi)
	if lo < 40*time.Millisecond || hi >= 80*time.Millisecond {
		t.Fatalf("RTT %s to %s with 20 ms each way, want within [40 ms, 80 ms)", lo, hi)
	}
	// TCP gets through the bridge in both directions, still held to the
	// shaped rate.
	port := l.Server.StartIperf3Server(t, l.ServerAddr)
	for _, args := range [][]string{{"-t", "4"}, {"-t", "4", "-R"}} {
		r := RunIperf3Client(t, l.Client, l.ServerAddr, port, args...)
		t.Logf("iperf3 %v: %.1f Mbit/s, %d retransmits", args, r.ReceivedBitsPerSecond/1e6, r.Retransmits)
		if r.ReceivedBitsPerSecond < 50e6 || r.ReceivedBitsPerSecond > 100e6 {
			t.Errorf("iperf3 %v through 100 Mbit/s and 40 ms RTT: %.1f Mbit/s, want 50-100", args, r.ReceivedBitsPerSecond/1e6)
		}
	}
}

func TestIntegrationShapedLinkJitterLoss(t *testing.T) {
	RequireIntegration(t, "network namespaces and ethtool")
	const delay, jitter, loss = 10 * time.Millisecond, 5 * time.Millisecond, 0.1
	l := NewShapedLink(t, LinkOptions{Delay: delay, Jitter: jitter, Loss: loss})
	s := ping(t, l, "-c", "200", "-i", "0.01", "-W", "1")
	// A reply needs both frames through: 81% expected; 200 pings put
	// 3% to 40% loss more than five standard deviations out.
	lost := 1 - float64(s.received)/float64(s.sent)
	lo, hi := minMax(s.rtts)
	t.Logf("%d sent, %.1f%% lost, RTT %s to %s", s.sent, 100*lost, lo, hi)
	if lost < 0.03 || lost > 0.40 {
		t.Errorf("%.1f%% of pings lost with %g loss each way, want 3-40%%", 100*lost, loss)
	}
	// Each way takes 5 to 15 ms; allow 10 ms for the machine.
	if lo < 2*(delay-jitter) || hi >= 2*(delay+jitter)+10*time.Millisecond {
		t.Errorf("RTT %s to %s, want within [%s, %s)", lo, hi, 2*(delay-jitter), 2*(delay+jitter)+10*time.Millisecond)
	}
	if hi-lo < 5*time.Millisecond {
		t.Errorf("RTT spread %s with %s jitter each way: jitter not applied", hi-lo, jitter)
	}
}
