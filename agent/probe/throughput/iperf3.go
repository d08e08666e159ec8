package throughput

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// iperf3Test runs the iperf3 program against an iperf3 server. No
// maintained Go client of iperf3's protocol is available to us, so the
// probe drives the Debian iperf3 binary and reads its --json report.
type iperf3Test struct {
	bin   string
	host  string
	port  int
	every time.Duration
}

// iperf3Report is the part of `iperf3 --json` the probe reads.
type iperf3Report struct {
	Error     string `json:"error"`
	Intervals []struct {
		Sum struct {
			End           float64 `json:"end"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		Streams []struct {
			Sender struct {
				MeanRTT     float64 `json:"mean_rtt"` // µs
				Retransmits int64   `json:"retransmits"`
			} `json:"sender"`
		} `json:"streams"`
		SumSent struct {
			Bytes       int64   `json:"bytes"`
			Seconds     float64 `json:"seconds"`
			Retransmits int64   `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes   int64   `json:"bytes"`
			Seconds float64 `json:"seconds"`
		} `json:"sum_received"`
	} `json:"end"`
}

func (t *iperf3Test) run(ctx context.Context, dir string, streams int, dur time.Duration) (transfer, iperf3Report) {
	secs := int(math.Ceil(dur.Seconds()))
	args := []string{"-c", t.host, "-p", strconv.Itoa(t.port), "-P", strconv.Itoa(streams), "-t", strconv.Itoa(secs),
		"-i", strconv.FormatFloat(t.every.Seconds(), 'f', 3, 64), "--json", "--connect-timeout", "5000"}
	if dir == "download" {
		args = append(args, "-R") // the server sends
	}
	cmd := exec.CommandContext(ctx, t.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep iperf3Report
	out := transfer{ServerBytes: -1}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if runErr != nil {
			out.Err = fmt.Errorf("iperf3: %v: %s", runErr, msg)
		} else {
			out.Err = fmt.Errorf("iperf3 printed no JSON report: %v", err)
		}
		return out, rep
	}
	if rep.Error != "" {
		out.Err = errors.New("iperf3: " + rep.Error)
		return out, rep
	}
	if runErr != nil {
		out.Err = fmt.Errorf("iperf3: %v", runErr)
		return out, rep
	}
	for _, iv := range rep.Intervals {
		out.Samples = append(out.Samples, Sample{At: time.Duration(iv.Sum.End * float64(time.Second)), Mbps: iv.Sum.BitsPerSecond / 1e6})
	}
	out.Bytes = rep.End.SumReceived.Bytes
	out.Elapsed = time.Duration(rep.End.SumReceived.Seconds * float64(time.Second))
	return out, rep
}
