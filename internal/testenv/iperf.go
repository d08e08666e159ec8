package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartIperf3Server runs `iperf3 -s` bound to addr inside the namespace, on
// a free port that it returns once the server accepts connections. The
// server runs in the foreground of its own process and is killed by
// t.Cleanup. It skips (fails when required) without iperf3.
func (n *Netns) StartIperf3Server(t testing.TB, addr netip.Addr) (port int) {
	t.Helper()
	RequireBinary(t, "iperf3")
	RequireBinary(t, "ss")
	for range 5 {
		// Ports are only ever busy within this namespace, so a random
		// pick rarely needs a second try.
		port = 20000 + rand.IntN(30000)
		if n.startIperf3(t, addr, port) {
			return port
		}
	}
	t.Fatalf("iperf3 -s in %s found no free port in 5 tries", n.Name)
	return 0
}

// startIperf3 starts the server on port and waits until it listens; false
// when the port was taken.
func (n *Netns) startIperf3(t testing.TB, addr netip.Addr, port int) bool {
	t.Helper()
	var out bytes.Buffer
	cmd := n.Command(context.Background(), "iperf3", "-s", "-B", addr.String(), "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting iperf3 -s in %s: %v", n.Name, err)
	}
	// `ip netns exec` execs iperf3 in its own process, so killing the
	// process kills the server.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			if strings.Contains(out.String(), "in use") {
				return false
			}
			t.Fatalf("iperf3 -s -B %s -p %d in %s exited: %v: %s", addr, port, n.Name, waitErr, strings.TrimSpace(out.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if n.listening(t, port) {
			t.Cleanup(stop)
			return true
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("iperf3 -s -B %s -p %d in %s not listening after 10s: %s", addr, port, n.Name, strings.TrimSpace(out.String()))
		}
	}
}

// listening reports whether a TCP socket listens on port in the namespace.
func (n *Netns) listening(t testing.TB, port int) bool {
	t.Helper()
	out := n.Run(t, "ss", "-H", "-l", "-t", "-n", "sport", "=", ":"+strconv.Itoa(port))
	return strings.TrimSpace(out) != ""
}

// Iperf3Result is what RunIperf3Client reads from iperf3's JSON report
// (its `end` section).
type Iperf3Result struct {
	// ReceivedBitsPerSecond is the goodput at the receiver over the test:
	// the figure iperf3 prints as "receiver". With -R the receiver is
	// the client.
	ReceivedBitsPerSecond float64
	// SentBitsPerSecond is the rate at the sender, retransmissions and
	// data still queued at the end included.
	SentBitsPerSecond float64
	ReceivedBytes     int64
	Seconds           float64 // the receiver's measuring time
	Retransmits       int64   // by the TCP sender (the server with -R)
	// HostCPU and RemoteCPU are iperf3's cpu_utilization_percent
	// host_total and remote_total: user plus system CPU time over wall
	// time, in percent of one CPU, of the client and of the server.
	HostCPU, RemoteCPU float64
	Reverse            bool    // -R: the server sent
	Protocol           string  // TCP or UDP
	LostPercent        float64 // UDP datagrams lost; 0 for TCP
}

// iperf3JSON is the part of `iperf3 --json` this package reads.
type iperf3JSON struct {
	Start struct {
		TestStart struct {
			Protocol string `json:"protocol"`
			Reverse  int    `json:"reverse"`
		} `json:"test_start"`
	} `json:"start"`
	End struct {
		SumSent     *iperf3Sum `json:"sum_sent"`
		SumReceived *iperf3Sum `json:"sum_received"`
		Sum         *iperf3Sum `json:"sum"` // UDP
		CPU         struct {
			HostTotal   float64 `json:"host_total"`
			RemoteTotal float64 `json:"remote_total"`
		} `json:"cpu_utilization_percent"`
	} `json:"end"`
	Error string `json:"error"`
}

type iperf3Sum struct {
	Seconds       float64 `json:"seconds"`
	Bytes         int64   `json:"bytes"`
	BitsPerSecond float64 `json:"bits_per_second"`
	Retransmits   int64   `json:"retransmits"`
	LostPercent   float64 `json:"lost_percent"`
}

// ParseIperf3JSON reads the report of `iperf3 -c ... --json`. A report
// with an "error" member, or without a receiver summary, is an error.
func ParseIperf3JSON(b []byte) (Iperf3Result, error) {
	var j iperf3JSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Iperf3Result{}, fmt.Errorf("iperf3 JSON: %w", err)
	}
	if j.Error != "" {
		return Iperf3Result{}, fmt.Errorf("iperf3: %s", j.Error)
	}
	r := Iperf3Result{
		HostCPU:   j.End.CPU.HostTotal,
		RemoteCPU: j.End.CPU.RemoteTotal,
		Reverse:   j.Start.TestStart.Reverse != 0,
		Protocol:  j.Start.TestStart.Protocol,
	}
	switch {
	case j.End.SumReceived != nil:
		r.ReceivedBitsPerSecond = j.End.SumReceived.BitsPerSecond
		r.ReceivedBytes = j.End.SumReceived.Bytes
		r.Seconds = j.End.SumReceived.Seconds
		if j.End.SumSent != nil {
			r.SentBitsPerSecond = j.End.SumSent.BitsPerSecond
			r.Retransmits = j.End.SumSent.Retransmits
		}
	case j.End.Sum != nil: // UDP: one summary, loss counted at the receiver
		s := j.End.Sum
		r.SentBitsPerSecond = s.BitsPerSecond
		r.ReceivedBitsPerSecond = s.BitsPerSecond * (1 - s.LostPercent/100)
		r.ReceivedBytes = int64(float64(s.Bytes) * (1 - s.LostPercent/100))
		r.Seconds = s.Seconds
		r.LostPercent = s.LostPercent
	default:
		return Iperf3Result{}, errors.New("iperf3 JSON has no end.sum_received or end.sum")
	}
	return r, nil
}

// RunIperf3Client runs `iperf3 -c addr -p port --json args...` inside ns
// (add "-R" for the server to send, "-t", "5" for the duration, "-P", "4"
// for streams) and returns the report's summary. A failed test fails t.
// It gives up 60 s after the duration that -t or --time asks for (10 s
// when not given).
func RunIperf3Client(t testing.TB, ns *Netns, addr netip.Addr, port int, args ...string) Iperf3Result {
	t.Helper()
	RequireBinary(t, "iperf3")
	dur := 10 * time.Second
	for i, a := range args {
		if (a == "-t" || a == "--time") && i+1 < len(args) {
			if s, err := strconv.ParseFloat(args[i+1], 64); err == nil {
				dur = time.Duration(s * float64(time.Second))
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), dur+60*time.Second)
	defer cancel()
	full := append([]string{"-c", addr.String(), "-p", strconv.Itoa(port), "--json"}, args...)
	var stdout, stderr bytes.Buffer
	cmd := ns.Command(ctx, "iperf3", full...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	r, err := ParseIperf3JSON(stdout.Bytes())
	if err != nil || runErr != nil {
		t.Fatalf("in %s: iperf3 %s: %v (exit: %v; stderr: %s)", ns.Name, strings.Join(full, " "), err, runErr,
			strings.TrimSpace(stderr.String()))
	}
	return r
}
