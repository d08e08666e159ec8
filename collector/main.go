// Command probity-collector receives results from Probity agents, stores
// them, scores every school against the DfE standards and serves the
// evidence: API, report pages and exports.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/collector/settings"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/postgres"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/config"
	"github.com/probity-edu/probity/internal/logging"
	"github.com/probity-edu/probity/internal/privilege"
	"github.com/probity-edu/probity/internal/version"
)

const defaultConfig = "/etc/probity/collector.yaml"

const usage = `probity-collector stores Probity agents' measurements and turns them into DfE evidence.

Usage:
  probity-collector serve                                    run the collector (API, reports, scoring)
  probity-collector setup [--trust T] [--admin NAME]         first run after installing: the store, the first
                                                             trust admin (password printed once), the service, the URL
  probity-collector trust add NAME                           create a trust (a single school is a trust of one)
  probity-collector site add --trust T --name N --phase P [--urn U] [--id ID]
                                                             add a school; phase: primary, secondary, all-through, special, fe
  probity-collector site list                                list schools
  probity-collector agent token --site S [--ttl 168h]        print a one-time enrolment token for an agent
  probity-collector agent list [--site S]                    list agents: version, last contact, public address
  probity-collector agent add --site S --hostname H          create an agent for another sender (a school's Telegraf)
                                                             and print its credential once
  probity-collector score [--site S]                         evaluate every requirement now
  probity-collector report --site S [--format html|json] [--out FILE]
                                                             write a site's evidence report
  probity-collector attest --site S --req ID --by NAME [--role R] --note TEXT [--link URL] [--at DATE]
                                                             record a person's evidence for a requirement
  probity-collector attestations --site S [--history] [--req ID]
                                                             list attestations (current, or all with --history)
  probity-collector trust summary --trust NAME [--format table|json]
                                                             per standard, how many schools meet it; the commonest gaps
  probity-collector admin token --name N | --list | --revoke N
                                                             admin tokens for the attestation API
  probity-collector user add --name N --role trust_admin|school_viewer [--trust T] [--site S] [--password-stdin]
                                                             add a person who signs in to the web pages; prints a
                                                             generated password once unless --password-stdin
  probity-collector user list | user passwd --name N [--password-stdin] | user disable --name N
                                                             list users, set a new password, disable one
  probity-collector standards list [--standard S] [--core[=false]] [--evidence E] [--policy FILE] [--json]
                                                             list the DfE requirements
  probity-collector standards show ID [--policy FILE] [--json]
                                                             one requirement in full, its rule in plain English
  probity-collector speedtest --listen ADDR (--collector URL | --token-file FILE) [--max-duration 60s]
                            [--max-concurrent 32] [--tls-cert F --tls-key F]
                                                             run only the speed-test server, e.g. at a trust's network edge
  probity-collector loadgen --collector URL [--collector URL2] [--schools N] [--speedup X] [--duration D]
                          [--setup] [--concurrency C] [--agents FILE] [--json]
                                                             simulate N schools' agents writing to collectors (load
                                                             test; --setup makes the schools and enrols their agents)
  probity-collector version                                  print build information

Common flags:
  --config FILE        collector configuration (default /etc/probity/collector.yaml; defaults apply if absent)
  --config.check       validate the configuration, print it with secrets redacted, and exit
  --data_dir DIR       where the embedded store lives
  --listen ADDR        HTTP listen address (serve)
  --log.level LEVEL    debug, info, warn or error

Every key of the configuration file can also be set as PROBITY_<KEY> with dots
as underscores, e.g. PROBITY_LISTEN=127.0.0.1:9000.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	// Two-word commands: trust add, site add|list, agent token|list.
	if (cmd == "trust" || cmd == "site" || cmd == "agent" || cmd == "admin" || cmd == "standards" || cmd == "user") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	handlers := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve":          cmdServe,
		"setup":          cmdSetup,
		"trust add":      cmdTrustAdd,
		"site add":       cmdSiteAdd,
		"site list":      cmdSiteList,
		"agent token":    cmdAgentToken,
		"agent list":     cmdAgentList,
		"agent add":      cmdAgentAdd,
		"speedtest":      cmdSpeedtest,
		"score":          cmdScore,
		"report":         cmdReport,
		"attest":         cmdAttest,
		"attestations":   cmdAttestations,
		"trust summary":  cmdTrustSummary,
		"admin token":    cmdAdminToken,
		"user add":       cmdUserAdd,
		"user list":      cmdUserList,
		"user passwd":    cmdUserPasswd,
		"user disable":   cmdUserDisable,
		"standards list": cmdStandardsList,
		"standards show": cmdStandardsShow,
		"loadgen":        cmdLoadgen,
	}
	if cmd == "version" || cmd == "--version" {
		fmt.Fprintln(stdout, version.String("probity-collector"))
		return 0
	}
	h, ok := handlers[cmd]
	if !ok {
		fmt.Fprintf(stderr, "probity-collector: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err := h(ctx, rest, stdout, stderr); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "probity-collector %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// common holds flags every command takes and the loaded configuration.
type common struct {
	flags  *pflag.FlagSet
	path   *string
	check  *bool
	config settings.Collector
	// keepRoot stops open from dropping to the data directory's owner.
	keepRoot bool
}

func newCommon(name string) *common {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	c := &common{flags: fs}
	c.path = fs.String("config", defaultConfig, "collector configuration file")
	c.check = fs.Bool("config.check", false, "validate and print the effective configuration, then exit")
	fs.String("data_dir", "", "data directory of the embedded store")
	fs.String("listen", "", "HTTP listen address, host:port")
	fs.String("log.level", "", "debug, info, warn or error")
	fs.String("log.format", "", "auto, text or json")
	return c
}

// load parses flags and configuration; done=true when --config.check ran.
func (c *common) load(args []string, stdout io.Writer) (done bool, err error) {
	if err := c.flags.Parse(args); err != nil {
		return false, err
	}
	c.config = settings.Defaults()
	path := *c.path
	if path == defaultConfig {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			path = "" // no file: defaults, environment and flags only
		}
	}
	if err := config.Load(path, &c.config, config.Options{Flags: c.flags}); err != nil {
		return false, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if *c.check {
		out, err := config.Print(c.config)
		if err != nil {
			return false, err
		}
		fmt.Fprintf(stdout, "# configuration is valid; effective configuration (secrets redacted):\n%s", out)
		return true, nil
	}
	return false, nil
}

// open opens the store named by the configuration.
func (c *common) open(ctx context.Context, stderr io.Writer) (store.Store, error) {
	if c.config.Store.Driver == "postgres" {
		log := logging.New(c.config.Log, stderr)
		return postgres.Open(ctx, c.config.Store.DSN, postgres.Options{Log: log.With("component", "store")})
	}
	if err := privilege.EnsureDir(c.config.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	log := logging.New(c.config.Log, stderr)
	// Run by root (sudo probity-collector ...) against the service's data
	// directory: act as its owner, so the store's files stay the
	// service's to write. setup stays root to manage the service, and
	// hands its files over itself.
	if o, ok, err := privilege.ServiceOwner(c.config.DataDir); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	} else if ok && !c.keepRoot {
		if err := privilege.DropTo(o); err != nil {
			return nil, err
		}
		log.Debug("running as the data directory's owner", "uid", o.UID, "gid", o.GID)
	}
	return sqlite.Open(ctx, c.config.DBPath(), sqlite.Options{Log: log.With("component", "store")})
}

// setup does flags, config and store for the admin commands.
func setup(ctx context.Context, name string, args []string, stdout, stderr io.Writer, define func(fs *pflag.FlagSet)) (*common, store.Store, error) {
	c := newCommon(name)
	if define != nil {
		define(c.flags)
	}
	done, err := c.load(args, stdout)
	if err != nil || done {
		return c, nil, err
	}
	st, err := c.open(ctx, stderr)
	return c, st, err
}
