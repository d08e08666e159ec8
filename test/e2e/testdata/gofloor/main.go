// Command gofloor is the footprint benchmark's floor: the least a Go agent
// does, with nothing else. Every 10 s it gzips one line-protocol point, POSTs
// it to the URL in its argument and logs the answer with log/slog, as the
// agent's shipper does, and runs no probe. Its memory is what the Go runtime,
// net/http and the shipper's compression cost before any measuring starts.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gofloor URL")
		os.Exit(2)
	}
	url := os.Args[1]
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for n := 0; ; n++ {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.StatelessCompression)
		if err != nil {
			log.Error("gzip", "err", err)
			os.Exit(1)
		}
		fmt.Fprintf(zw, "agent,host=floor spooled=%di %d\n", n, time.Now().UnixNano())
		if err := zw.Close(); err != nil {
			log.Error("gzip", "err", err)
			os.Exit(1)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &buf)
		if err != nil {
			log.Error("request", "err", err)
			os.Exit(1)
		}
		req.Header.Set("Content-Encoding", "gzip")
		if res, err := http.DefaultClient.Do(req); err != nil {
			log.Warn("post", "err", err)
		} else {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			log.Info("post", "status", res.StatusCode, "batch", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
