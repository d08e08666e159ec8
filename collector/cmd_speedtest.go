package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/speedtest"
	"github.com/probity-edu/probity/internal/logging"
	"github.com/probity-edu/probity/internal/version"
	"github.com/probity-edu/probity/internal/wire"
)

// cmdSpeedtest runs the speed-test server alone, for a trust's network
// edge: no store, agents checked against a token file or by asking the
// collector.
func cmdSpeedtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("speedtest", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "listen address, host:port")
	collectorURL := fs.String("collector", "", "collector base URL; agents are checked by asking its /api/v1/whoami")
	tokenFile := fs.String("token-file", "", "file of allowed agent credentials or their sha256: hashes, one a line")
	maxDuration := fs.Duration("max-duration", speedtest.DefaultMaxDuration, "longest transfer, whatever the agent asks (1s to 5m)")
	maxConcurrent := fs.Int("max-concurrent", speedtest.DefaultMaxConcurrent, "transfers at once; more are refused with 503")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM); with --tls-key serves HTTPS")
	tlsKey := fs.String("tls-key", "", "TLS private key file (PEM)")
	logCfg := logging.Defaults
	fs.StringVar(&logCfg.Level, "log.level", logCfg.Level, "debug, info, warn or error")
	fs.StringVar(&logCfg.Format, "log.format", logCfg.Format, "auto, text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: usage: probity-collector speedtest --listen ADDR (--collector URL | --token-file FILE)", fs.Args())
	}
	var errs []error
	switch {
	case *collectorURL == "" && *tokenFile == "":
		errs = append(errs, errors.New("say how to check agents' credentials: --collector URL (ask the collector) or --token-file FILE (a list of allowed credentials)"))
	case *collectorURL != "" && *tokenFile != "":
		errs = append(errs, errors.New("give --collector or --token-file, not both"))
	}
	if _, _, err := net.SplitHostPort(*listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen: must be host:port, like 0.0.0.0:8081 (%v)", err))
	}
	if *maxDuration < time.Second || *maxDuration > 5*time.Minute {
		errs = append(errs, fmt.Errorf("--max-duration: must be between 1s and 5m, not %s", *maxDuration))
	}
	if *maxConcurrent < 1 || *maxConcurrent > 4096 {
		errs = append(errs, fmt.Errorf("--max-concurrent: must be between 1 and 4096, not %d", *maxConcurrent))
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if err := logCfg.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--log.%w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	log := logging.New(logCfg, stderr)

	var auth speedtest.Authenticator
	var authDesc string
	if *tokenFile != "" {
		tf, err := speedtest.LoadTokenFile(*tokenFile, log.With("component", "speedtest"))
		if err != nil {
			return err
		}
		auth, authDesc = tf, fmt.Sprintf("token file %s (%d credentials)", *tokenFile, tf.Len())
	} else {
		r, err := speedtest.NewRemote(*collectorURL)
		if err != nil {
			return fmt.Errorf("--collector: %w", err)
		}
		auth, authDesc = r, "collector "+*collectorURL
	}
	var tlsConf *tls.Config
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	sp := &speedtest.Server{Auth: auth, MaxDuration: *maxDuration, MaxConcurrent: *maxConcurrent, Log: log.With("component", "speedtest")}
	mux := http.NewServeMux()
	mux.Handle(wire.SpeedtestDownloadPath, sp.Handler())
	mux.Handle(wire.SpeedtestUploadPath, sp.Handler())
	mux.HandleFunc("GET "+wire.HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	hs := &http.Server{Handler: mux, ConnContext: speedtest.ConnContext, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, TLSConfig: tlsConf}
	// HTTP/1.1 only: over HTTP/2 an agent's parallel streams would share
	// one TCP connection and the multi-stream test would measure one.
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConf)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("speed-test server listening", "version", version.Version, "url", scheme+"://"+ln.Addr().String(),
		"auth", authDesc, "max_duration", maxDuration.String(), "max_concurrent", *maxConcurrent)
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	}
	// Transfers in progress get a moment to end; the agent records a cut
	// test as failed, never as a figure.
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		hs.Close()
	}
	st := sp.Stats()
	log.Info("speed-test server stopped", "downloads", st.Downloads, "uploads", st.Uploads,
		"bytes_sent", st.BytesSent, "bytes_received", st.BytesReceived, "refused_busy", st.RejectedBusy, "unauthorized", st.Unauthorized)
	return nil
}
