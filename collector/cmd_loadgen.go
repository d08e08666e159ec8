package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/loadgen"
	"github.com/probity-edu/probity/collector/store"
)

// loadgenTrust holds the simulated schools, apart from real ones.
const loadgenTrust = "Loadgen Trust"

// cmdLoadgen simulates --schools agents writing a real school's mix to
// one or more collectors (collector/loadgen). With --setup it first makes
// the missing schools in the store named by --config and enrols their
// agents over HTTP, as probity-agent would; their credentials are kept in
// --agents for the next run.
func cmdLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommon("loadgen")
	fs := c.flags
	collectors := fs.StringSlice("collector", nil, "collector base URL; repeat or comma-separate for several (schools alternate between them per batch)")
	schools := fs.Int("schools", 10, "simulated schools (one agent each)")
	speedup := fs.Float64("speedup", 1, "divide every probe interval by this (1 = real time)")
	duration := fs.Duration("duration", time.Minute, "how long to generate load (0 with --setup: set up only)")
	setupFlag := fs.Bool("setup", false, "create the missing schools in the store of --config and enrol their agents first")
	concurrency := fs.Int("concurrency", 0, "most POSTs in flight over all schools (0: one per school, as real agents)")
	agentsPath := fs.String("agents", "", "file of the simulated agents' credentials (default: loadgen-agents.json in data_dir)")
	batchEvery := fs.Duration("batch-every", 10*time.Second, "how often each school ships (the agent's ship.batch_every)")
	drain := fs.Duration("drain", 0, "after --duration, how long queued batches may still be sent (0: --batch-every and 10s, as each school sends its last batch at its own next shipping time)")
	progress := fs.Duration("progress", 5*time.Second, "print progress this often")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	switches := fs.Int("switches", loadgen.Switches, "switches each school polls (50 points a minute each; 5 make the 300 points a minute of a small school)")
	done, err := c.load(args, stdout)
	if err != nil || done {
		return err
	}
	var urls []string
	for _, u := range *collectors {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, strings.TrimRight(u, "/"))
		}
	}
	if len(urls) == 0 {
		return fmt.Errorf("--collector is required (e.g. --collector http://127.0.0.1:8080)")
	}
	if *schools < 1 || *speedup <= 0 || *duration < 0 || (*duration == 0 && !*setupFlag) {
		return fmt.Errorf("--schools, --speedup and --duration must be positive")
	}
	if *switches < 0 || *switches > 99 {
		return fmt.Errorf("--switches must be between 0 and 99, not %d", *switches)
	}
	path := *agentsPath
	if path == "" {
		path = filepath.Join(c.config.DataDir, "loadgen-agents.json")
	}
	agents, err := loadgen.LoadAgents(path)
	if err != nil {
		return err
	}
	if *setupFlag && len(agents) < *schools {
		if agents, err = loadgenSetup(ctx, c, urls, agents, *schools, stderr); err != nil {
			return err
		}
		if err := loadgen.SaveAgents(path, agents); err != nil {
			return err
		}
	}
	if len(agents) < *schools {
		return fmt.Errorf("%s has %d enrolled simulated agents, fewer than --schools %d: run with --setup", path, len(agents), *schools)
	}
	if *duration == 0 {
		return nil // --setup only
	}
	mix := loadgen.MixOf(*switches)
	fmt.Fprintf(stderr, "loadgen: %d schools (%.0f points each a minute at real intervals), speed-up %g, for %s, to %s\n",
		*schools, loadgen.TotalPerMinute(mix), *speedup, *duration, strings.Join(urls, ", "))
	o := loadgen.Options{Collectors: urls, Agents: agents[:*schools], Speedup: *speedup, Duration: *duration, Mix: mix,
		BatchEvery: *batchEvery, Concurrency: *concurrency, Drain: *drain, Progress: stderr, ProgressEvery: *progress,
		Seed: uint64(time.Now().UnixNano())}
	r, err := loadgen.Run(ctx, o)
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintln(stdout, r)
	return nil
}

// loadgenSetup makes schools load-00001... up to n in the store and
// enrols an agent for each one that has none in have.
func loadgenSetup(ctx context.Context, c *common, urls []string, have []loadgen.Agent, n int, stderr io.Writer) ([]loadgen.Agent, error) {
	st, err := c.open(ctx, stderr)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	tr, err := st.TrustByName(ctx, loadgenTrust)
	if errors.Is(err, store.ErrNotFound) {
		tr, err = st.CreateTrust(ctx, loadgenTrust)
	}
	if err != nil {
		return nil, fmt.Errorf("trust %q: %w", loadgenTrust, err)
	}
	type job struct {
		i            int
		token, site  string
		collectorURL string
	}
	var jobs []job
	for i := len(have); i < n; i++ {
		id := fmt.Sprintf("load-%05d", i+1)
		if _, err := st.Site(ctx, id); errors.Is(err, store.ErrNotFound) {
			phase := []string{"primary", "secondary"}[i%2]
			if _, err := st.CreateSite(ctx, store.Site{ID: id, TrustID: tr.ID, Name: fmt.Sprintf("Loadgen School %d", i+1), Phase: phase}); err != nil {
				return nil, fmt.Errorf("site %s: %w", id, err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("site %s: %w", id, err)
		}
		tok := api.NewSecret()
		if err := st.CreateEnrolToken(ctx, id, store.HashSecret(tok), time.Now().Add(time.Hour)); err != nil {
			return nil, fmt.Errorf("enrolment token for %s: %w", id, err)
		}
		jobs = append(jobs, job{i: i, token: tok, site: id, collectorURL: urls[i%len(urls)]})
	}
	// Enrol over HTTP, a few at a time, as agents arriving would.
	out := append(have, make([]loadgen.Agent, len(jobs))...)
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	ch := make(chan job)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				a, err := loadgen.Enrol(ctx, client, j.collectorURL, j.token, fmt.Sprintf("loadgen-%05d", j.i+1))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("school %s: %w", j.site, err)
				}
				out[j.i] = a
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	fmt.Fprintf(stderr, "loadgen: %d schools made and enrolled in trust %q (%d in all)\n", len(jobs), loadgenTrust, len(out))
	return out, nil
}
