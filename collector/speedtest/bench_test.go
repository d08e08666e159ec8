package speedtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/wire"
)

// BenchmarkDownload streams from the server over a real loopback HTTP
// connection: one op is one MiB of one long download, so MB/s is the
// server's single-stream rate on this machine and allocs/op shows that
// streaming allocates nothing per MiB. (Client and server share the CPU.)
func BenchmarkDownload(b *testing.B) {
	_, srv := newTestServer(b, 5*time.Minute, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := request(b, ctx, "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=300", goodToken, nil)
	defer resp.Body.Close()
	buf := make([]byte, 256<<10)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for got := 0; got < 1<<20; {
			n, err := resp.Body.Read(buf[:min(len(buf), 1<<20-got)])
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}

// BenchmarkDownloadRequest is one short download (20 ms) per op: B/op is
// what a whole request allocates on both ends, far below the 4 MiB
// payload, which is made once per server.
func BenchmarkDownloadRequest(b *testing.B) {
	_, srv := newTestServer(b, 5*time.Minute, 4)
	get := func() int64 {
		resp := request(b, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=0.02", goodToken, nil)
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("download: %d %v", resp.StatusCode, err)
		}
		return n
	}
	get()
	b.ReportAllocs()
	b.ResetTimer()
	var total int64
	for range b.N {
		total += get()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds()/1e6, "MB/s")
}

// BenchmarkUpload posts 8 MiB per op over loopback HTTP.
func BenchmarkUpload(b *testing.B) {
	_, srv := newTestServer(b, 5*time.Minute, 4)
	data := make([]byte, 8<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		resp := request(b, context.Background(), "POST", srv.URL+wire.SpeedtestUploadPath, goodToken, bytes.NewReader(data))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("upload: %d", resp.StatusCode)
		}
	}
}
