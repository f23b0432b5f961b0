// Command loadtest is the site's load benchmark (make bench). It starts a
// built site binary on a free loopback port with a fresh SQLite database,
// drives it with its own HTTP load generator and prints a markdown table.
//
// Every figure is a ratio against a baseline measured in the same run,
// because the machine is shared and noisy: /get (a session read) and
// /visits (a read and a write) are compared with /baseline/get and
// /baseline/visits, the same pages rendered from fixed values without the
// session middleware (the site serves them with BENCH_ROUTES=1), and
// everything with /baseline/raw, Echo answering a fixed string.
//
//	go build -o /tmp/site . && go run ./app/loadtest -site /tmp/site
//	go build -o /tmp/manage ./manage && go run ./app/loadtest -clearsessions -site /tmp/site -manage /tmp/manage
//
// A run is deterministic in its phases and bounded: each phase stops after
// -duration or -requests, whichever comes first, and the whole run after
// -timeout. Only loopback addresses are ever contacted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/djangosessions/gosessions/app/engine"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the benchmark could not run, or requests failed or updates were lost
	exitUsage   = 2
)

// options are the command line.
type options struct {
	site, manage string
	lib, scs     string // the library app and scs's app (optional)

	conns       int
	sessions    int
	duration    time.Duration
	warmup      time.Duration
	maxRequests int
	rounds      int
	memSessions int
	reqTimeout  time.Duration
	timeout     time.Duration
	keep        bool
	postgres    string

	profile     string // route label to profile (-profile mode)
	profileOut  string
	profileTime time.Duration

	rate       float64
	openRounds int
	openConns  int

	clearSessions bool
	expired, live int
	before        time.Duration
}

const usageHead = `Usage: loadtest -site PATH [flags]
       loadtest -clearsessions -site PATH -manage PATH [flags]
       loadtest -profile ROUTE -site PATH [-lib PATH] [flags]

The load benchmark of the demo site. It starts the site binary PATH (build
it with 'go build -o PATH .') on 127.0.0.1 with a fresh SQLite database in
a temporary directory and BENCH_ROUTES=1, then:

Default mode: every client gets its own session (one /set, one /visits),
then -rounds times, in this order, each phase for -duration: with -lib,
raw Echo (the library app's /raw, no middleware at all); the site's
/baseline/raw, /baseline/get, /get, /baseline/visits, /visits; with -lib,
the library app's /get and /visits; with -scs, scs's /get and /visits with
its memstore, then with its sqlite3store. Each request sends the next
session's cookie, round-robin. It prints req/s, p50 and p99 latency,
errors and the CPU time per request of each route's process (over all its
rounds), the ratio of each session route to its baseline and of every
route to raw Echo (medians of the ratios within a round), checks that no
visit was lost (the stored counts, read back, add up to the successful
/visits), runs the open-loop phase (raw Echo, the library's and the
site's /visits at one fixed offered rate, -rate), and measures the site's
memory with -mem-sessions sessions cached.

-profile ROUTE: starts the apps as above, then loads the route ROUTE (a
label of the report) for -profile-time while its process records a CPU
profile, written to -profile-out.

-clearsessions: fills a fresh database with -expired expired sessions and
-live live ones, loads /get and /visits (half the connections each) on
live sessions for -before, then runs 'manage clearsessions --verbose'
under the same load and reports its time, its longest write-lock hold,
the site's latency before and during it, and lost visits.

Other settings of the site (SESSION_ENGINE, SESSION_CACHE_SIZE, ...) pass
through from the environment; ADDR, DATABASE_URL, SECRET_KEY and
BENCH_ROUTES are set by the benchmark. With -postgres the site runs on a
fresh PostgreSQL database; with SESSION_ENGINE=cache or cached_db and no
CACHE_URL the benchmark starts a private redis-server for it. With
SESSION_ENGINE=signed_cookies each client follows the cookie the site
sends back (it changes at every write), and lost visits are reported, not
failed on: of two concurrent requests of one client, the last cookie wins.

Flags:
`

// parseOptions reads the command line.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.site, "site", "", "the site binary to start (required)")
	fs.StringVar(&o.manage, "manage", "", "the manage binary (required with -clearsessions)")
	fs.StringVar(&o.lib, "lib", "", "the library app binary (app/loadtest/libsite), measured beside the site and with its /raw as raw Echo")
	fs.StringVar(&o.scs, "scs", "", "the scs comparison app binary (built from app/loadtest/scs, a module of its own)")
	fs.StringVar(&o.profile, "profile", "", "profile mode: record a CPU profile of the process serving this route (a label of the report: /get, /visits, library /visits, ...) under load")
	fs.StringVar(&o.profileOut, "profile-out", "cpu.pprof", "with -profile: where the profile goes")
	fs.DurationVar(&o.profileTime, "profile-time", 10*time.Second, "with -profile: how long to record")
	fs.Float64Var(&o.rate, "rate", 0, "open-loop phase: offered requests per second (0: a third of the closed-loop throughput of the slowest route measured)")
	fs.IntVar(&o.openRounds, "open-rounds", 4, "open-loop phase: interleaved rounds of -duration per route (0 skips it)")
	fs.IntVar(&o.openConns, "open-c", 64, "open-loop phase: connections (requests in flight at most)")
	fs.IntVar(&o.conns, "c", 32, "concurrent connections, one request in flight on each")
	fs.IntVar(&o.sessions, "sessions", 1000, "sessions the clients hold, one cookie each, used round-robin")
	fs.DurationVar(&o.duration, "duration", 2*time.Second, "length of each measured phase")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load on each route before the first round")
	fs.IntVar(&o.maxRequests, "requests", 2_000_000, "at most this many requests in a phase")
	fs.IntVar(&o.rounds, "rounds", 8, "times the interleaved phases are repeated (short phases, many rounds: noise hits a route and its baseline alike)")
	fs.IntVar(&o.memSessions, "mem-sessions", 100_000, "sessions cached in the memory phase, 0 to skip it")
	fs.DurationVar(&o.reqTimeout, "request-timeout", 10*time.Second, "a request slower than this is an error")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "the whole run stops after this")
	fs.StringVar(&o.postgres, "postgres", "", "run the demo site on a fresh database on this PostgreSQL server (a URL whose user may create databases) instead of SQLite")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (database, site log) and print its path")
	fs.BoolVar(&o.clearSessions, "clearsessions", false, "measure manage clearsessions under load instead")
	fs.IntVar(&o.expired, "expired", 1_000_000, "expired sessions to fill in, with -clearsessions")
	fs.IntVar(&o.live, "live", 100_000, "live sessions to fill in, with -clearsessions")
	fs.DurationVar(&o.before, "before", 8*time.Second, "with -clearsessions: load measured before clearsessions starts")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.site == "":
		return o, errors.New("-site is required: build the site with 'go build -o /tmp/site .' and pass -site /tmp/site")
	case o.profile != "" && (o.clearSessions || o.profileTime < time.Second):
		return o, errors.New("-profile: not with -clearsessions, and -profile-time of 1s or more")
	case o.clearSessions && o.manage == "":
		return o, errors.New("-clearsessions needs -manage: build it with 'go build -o /tmp/manage ./manage'")
	case o.conns < 1 || o.conns > 1024:
		return o, fmt.Errorf("-c %d: want 1 to 1024", o.conns)
	case o.sessions < 1:
		return o, fmt.Errorf("-sessions %d: want 1 or more", o.sessions)
	case o.duration <= 0 || o.before <= 0 || o.warmup < 0 || o.reqTimeout <= 0 || o.timeout <= 0:
		return o, errors.New("durations must be positive")
	case o.maxRequests < 1:
		return o, fmt.Errorf("-requests %d: want 1 or more", o.maxRequests)
	case o.rounds < 1:
		return o, fmt.Errorf("-rounds %d: want 1 or more", o.rounds)
	case o.rate < 0 || o.openRounds < 0 || o.openConns < 1 || o.openConns > 1024:
		return o, errors.New("-rate and -open-rounds must not be negative, -open-c from 1 to 1024")
	case o.memSessions < 0 || o.expired < 0 || o.live < 0:
		return o, errors.New("session counts must not be negative")
	case o.clearSessions && o.live < o.sessions:
		return o, fmt.Errorf("-live %d is fewer than -sessions %d: the load uses live sessions", o.live, o.sessions)
	}
	return o, nil
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return exitUsage
	}
	eng := engine.DB
	if v := getenv("SESSION_ENGINE"); v != "" {
		if eng, err = engine.Parse(v); err != nil {
			fmt.Fprintln(stderr, "loadtest: SESSION_ENGINE:", err)
			return exitUsage
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "gosessions-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return exitFailure
	}
	if o.keep {
		fmt.Fprintln(stderr, "loadtest: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	b := &bench{o: o, engine: eng, dir: dir, getenv: getenv, progress: stderr}
	var ok bool
	switch {
	case o.clearSessions:
		ok, err = b.clearSessions(ctx, stdout)
	case o.profile != "":
		ok, err = b.profile(ctx, stdout)
	default:
		ok, err = b.routes(ctx, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return exitFailure
	}
	if !ok {
		return exitFailure
	}
	return exitOK
}
