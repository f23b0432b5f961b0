package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets of issue 5, each judged on figures of one run.
const (
	targetGetRatio     = 0.85
	targetVisitsRatio  = 0.5
	targetVisitsP99    = 10 * time.Millisecond
	targetClearTime    = 15 * time.Second
	targetClearSiteP99 = 50 * time.Millisecond
)

// machine describes where the run happened.
type machine struct {
	cores    int
	cpu      string
	goVer    string
	settings string // the site settings taken from the environment
}

// describeMachine reads the CPU model from /proc/cpuinfo and the site
// settings that pass through from the environment.
func describeMachine(getenv func(string) string) machine {
	m := machine{cores: runtime.NumCPU(), cpu: "unknown CPU", goVer: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var set []string
	for _, k := range []string{"SESSION_ENGINE", "SESSION_CACHE_SIZE", "SESSION_SAVE_EVERY_REQUEST", "METRICS", "METRICS_ADDR", "GOMAXPROCS", "GOGC"} {
		if v := getenv(k); v != "" {
			set = append(set, k+"="+v)
		}
	}
	m.settings = "defaults"
	if len(set) > 0 {
		m.settings = strings.Join(set, " ")
	}
	return m
}

func (m machine) header(w io.Writer, started time.Time) {
	fmt.Fprintf(w, "Run of %s UTC on %d cores (%s), %s, %s/%s; site settings: %s.\n",
		started.UTC().Format("2006-01-02 15:04"), m.cores, m.cpu, m.goVer, runtime.GOOS, runtime.GOARCH, m.settings)
}

// routesReport is the default mode's report.
type routesReport struct {
	machine machine
	started time.Time
	o       options
	results map[string][]phaseResult // by route, one per round
	sizes   map[string]int64         // page size by route
	lost    visitCheck
	rssWarm int64
	mem     *memoryResult
}

// pooled returns the rounds of path as one: requests, errors, time and
// CPU time added up, latencies pooled.
func (r routesReport) pooled(path string) phaseResult {
	p := phaseResult{path: path}
	for _, x := range r.results[path] {
		p.ok += x.ok
		p.errs += x.errs
		p.elapsed += x.elapsed
		p.siteCPU += x.siteCPU
		p.lat = append(p.lat, x.lat...)
		if p.firstErr == "" {
			p.firstErr = x.firstErr
		}
	}
	slices.Sort(p.lat)
	return p
}

// ratios returns the ratio of path's throughput to its baseline's in each
// round: phases of one round ran back to back, on the same machine.
func (r routesReport) ratios(path string) []float64 {
	var out []float64
	base := r.results[baselineOf[path]]
	for i, x := range r.results[path] {
		if i < len(base) && base[i].rps() > 0 {
			out = append(out, x.rps()/base[i].rps())
		}
	}
	return out
}

func (r routesReport) write(w io.Writer) {
	fmt.Fprintf(w, "\n## Load benchmark\n\n")
	r.machine.header(w, r.started)
	fmt.Fprintf(w, "%d connections over %s sessions (one cookie each, round-robin); %d rounds of %v per route, interleaved. "+
		"req/s, p50, p99 and CPU are over all rounds of a route; a ratio to the baseline is the median of the ratios within each round.\n\n",
		r.o.conns, thousands(int64(r.o.sessions)), r.o.rounds, r.o.duration)
	fmt.Fprintln(w, "| route | req/s | p50 | p99 | errors | site CPU/req | × its baseline | × raw Echo | page bytes |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	raw := r.pooled(pathRaw).rps()
	for _, p := range roundOrder {
		t := r.pooled(p)
		base := "—"
		if _, ok := baselineOf[p]; ok {
			base = fmt.Sprintf("**%.2f×**", median(r.ratios(p)))
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %d | %s | %s | %s | %s |\n",
			p, thousands(int64(t.rps()+0.5)), ms(t.percentile(0.5)), ms(t.percentile(0.99)), t.errs,
			us(t.cpuPerRequest()), base, ratio(t.rps(), raw), thousands(r.sizes[p]))
	}

	fmt.Fprintf(w, "\nRatio to the baseline in each round:")
	for _, p := range []string{pathGet, pathVisits} {
		fmt.Fprintf(w, " `%s`", p)
		for _, x := range r.ratios(p) {
			fmt.Fprintf(w, " %.2f×", x)
		}
		if p == pathGet {
			fmt.Fprint(w, ";")
		}
	}
	fmt.Fprint(w, ". Site CPU per request of the baseline divided by the route's (the same ratio as the site alone would see it, little disturbed by other processes):")
	for _, p := range []string{pathGet, pathVisits} {
		if c := r.pooled(p).cpuPerRequest(); c > 0 {
			fmt.Fprintf(w, " `%s` %.2f×", p, float64(r.pooled(baselineOf[p]).cpuPerRequest())/float64(c))
		}
		if p == pathGet {
			fmt.Fprint(w, ";")
		}
	}
	fmt.Fprintln(w, ".")
	for _, p := range roundOrder {
		for _, x := range r.results[p] {
			if x.errs > 0 {
				fmt.Fprintf(w, "\n%s: %d errors, the first: %s\n", p, x.errs, x.firstErr)
				break
			}
		}
	}

	fmt.Fprintf(w, "\nLost updates: %d (the stored visits of the %s sessions add up to %s; the successful /visits to %s",
		r.lost.lost, thousands(int64(r.o.sessions)), thousands(r.lost.stored), thousands(r.lost.counted))
	if r.lost.extra > 0 {
		fmt.Fprintf(w, "; %d stored visits were never answered with a 2xx", r.lost.extra)
	}
	fmt.Fprintln(w, ").")

	fmt.Fprintf(w, "\nMemory: the site's RSS after the warm-up of %s sessions: %s.", thousands(int64(r.o.sessions)), mib(r.rssWarm))
	if m := r.mem; m != nil {
		fmt.Fprintf(w, " With %s sessions each read once through /api/session (a fresh site and database each, SESSION_CACHE_SIZE=%d vs. 0):\n\n", thousands(int64(m.sessions)), m.cacheSize)
		fmt.Fprintln(w, "| sessions read | RSS, cache of all | RSS, no cache |")
		fmt.Fprintln(w, "|--:|--:|--:|")
		fmt.Fprintf(w, "| %s | %s | %s |\n", thousands(int64(m.first)), mib(m.cached[0]), mib(m.uncached[0]))
		fmt.Fprintf(w, "| %s | %s | %s |\n", thousands(int64(m.sessions)), mib(m.cached[1]), mib(m.uncached[1]))
		fmt.Fprintf(w, "\nMemory per cached session: about %s bytes (the growth of RSS with the cache minus the growth without it, per session; it includes the garbage collector's headroom).\n",
			thousands(int64(m.perSession()+0.5)))
	} else {
		fmt.Fprintln(w)
	}

	get, vis := median(r.ratios(pathGet)), median(r.ratios(pathVisits))
	p99 := r.pooled(pathVisits).percentile(0.99)
	fmt.Fprintf(w, "\nTargets (issue 5):\n\n")
	target(w, fmt.Sprintf("`/get` ≥ %.2f × its baseline", targetGetRatio), fmt.Sprintf("%.2f×", get), get >= targetGetRatio)
	target(w, fmt.Sprintf("`/visits` ≥ %.2f × its baseline", targetVisitsRatio), fmt.Sprintf("%.2f×", vis), vis >= targetVisitsRatio)
	target(w, fmt.Sprintf("`/visits` p99 ≤ %v", targetVisitsP99), ms(p99), p99 <= targetVisitsP99)
	target(w, "no lost updates", strconv.FormatInt(r.lost.lost, 10), r.lost.lost == 0)
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// clearReport is the -clearsessions mode's report.
type clearReport struct {
	machine machine
	started time.Time
	o       options
	r       clearResult
}

func (c clearReport) write(w io.Writer) {
	r := c.r
	fmt.Fprintf(w, "\n## clearsessions under load\n\n")
	c.machine.header(w, c.started)
	fmt.Fprintf(w, "A fresh database of %s expired and %s live sessions (filled in %v); %d connections read `/get` on %s of the live sessions before and during `manage clearsessions`.\n\n",
		thousands(int64(c.o.expired)), thousands(int64(c.o.live)), r.fill.Round(100*time.Millisecond), c.o.conns, thousands(int64(c.o.sessions)))
	fmt.Fprintln(w, "| `/get` | req/s | p50 | p99 | max | errors |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|")
	for _, row := range []struct {
		name string
		p    phaseResult
	}{{"before clearsessions", r.before}, {"during clearsessions", r.during}} {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d |\n", row.name, thousands(int64(row.p.rps()+0.5)),
			ms(row.p.percentile(0.5)), ms(row.p.percentile(0.99)), ms(row.p.max()), row.p.errs)
	}
	fmt.Fprintf(w, "\n`manage clearsessions` took %.1f s and said: %q. Sessions left: %s (want %s).\n",
		r.took.Seconds(), r.output, thousands(r.remaining), thousands(int64(c.o.live)))
	if r.loadEndedEarly {
		fmt.Fprintf(w, "\nThe load stopped before clearsessions finished (-requests or -timeout): the figures cover only part of the run.\n")
	}
	for _, p := range []phaseResult{r.before, r.during} {
		if p.errs > 0 {
			fmt.Fprintf(w, "\nErrors: %d, the first: %s\n", p.errs, p.firstErr)
			break
		}
	}
	fmt.Fprintf(w, "\nTargets (issue 5):\n\n")
	target(w, fmt.Sprintf("clearsessions of %s expired rows ≤ %v", thousands(int64(c.o.expired)), targetClearTime), fmt.Sprintf("%.1f s", r.took.Seconds()), r.manageSucceeded && r.took <= targetClearTime)
	target(w, fmt.Sprintf("site p99 during it ≤ %v", targetClearSiteP99), ms(r.during.percentile(0.99)), r.during.percentile(0.99) <= targetClearSiteP99)
	target(w, "every expired row deleted, every live one kept", fmt.Sprintf("%s deleted, %s left", thousands(r.deleted), thousands(r.remaining)),
		r.deleted == int64(c.o.expired) && r.remaining == int64(c.o.live))
}

// target writes one line of the targets list.
func target(w io.Writer, what, got string, met bool) {
	verdict := "met"
	if !met {
		verdict = "**missed**"
	}
	fmt.Fprintf(w, "- %s: %s — %s\n", what, got, verdict)
}

// ratio formats a/b as "0.87×".
func ratio(a, b float64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// ms formats a latency in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// us formats a duration in microseconds.
func us(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// mib formats bytes in MiB.
func mib(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// thousands formats n with comma separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
