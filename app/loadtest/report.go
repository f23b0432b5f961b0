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

// The performance targets the project set itself, each judged on figures
// of one run (ratios to raw Echo, measured in the same rounds).
const (
	targetLibGet       = 0.9  // library /get × raw Echo
	targetLibVisits    = 0.5  // library /visits × raw Echo (and above scs's memstore)
	targetSiteGet      = 0.5  // the site's /get × raw Echo
	targetSiteVisits   = 0.35 // the site's /visits × raw Echo
	targetOpenP99Ratio = 1.3  // open loop: /visits p99 ≤ 1.3 × raw's p99 + 1 ms
	targetOpenP99Slack = time.Millisecond
	targetMemory       = 1000 // bytes per cached session
	targetClearTime    = 20 * time.Second
	targetClearSiteP99 = 50 * time.Millisecond
	targetClearHold    = 20 * time.Millisecond
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
	st      *runState
	results map[string][]phaseResult // by route label, one per round
	sizes   map[string]int64         // page size by route label
	checks  map[string]visitCheck    // by app name
	rssWarm int64
	mem     *memoryResult
	open    *openResult
}

// pooled returns the rounds of a route as one: requests, errors, time and
// CPU time added up, latencies pooled.
func pooled(rounds []phaseResult) phaseResult {
	var p phaseResult
	for _, x := range rounds {
		p.path = x.path
		p.add(x)
	}
	slices.Sort(p.lat)
	return p
}

// ratios returns the ratio of the throughput of route label to that of
// route base in each round: phases of one round ran back to back, on the
// same machine.
func (r routesReport) ratios(label, base string) []float64 {
	var out []float64
	b := r.results[base]
	for i, x := range r.results[label] {
		if i < len(b) && b[i].rps() > 0 {
			out = append(out, x.rps()/b[i].rps())
		}
	}
	return out
}

// toRaw is the median ratio of route label to raw Echo.
func (r routesReport) toRaw(label string) float64 { return median(r.ratios(label, r.st.raw)) }

func (r routesReport) write(w io.Writer) {
	fmt.Fprintf(w, "\n## Load benchmark\n\n")
	r.machine.header(w, r.started)
	fmt.Fprintf(w, "%d connections over %s sessions per app (one cookie each, round-robin); %d rounds of %v per route, interleaved. "+
		"req/s, p50, p99 and CPU are over all rounds of a route; CPU/req is the CPU time of the route's process per request; "+
		"a ratio is the median of the ratios within each round. Raw Echo is `%s`.\n\n",
		r.o.conns, thousands(int64(r.o.sessions)), r.o.rounds, r.o.duration, r.st.raw)
	fmt.Fprintln(w, "| route | req/s | p50 | p99 | errors | CPU/req | × its baseline | × raw Echo | body bytes |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, rt := range r.st.order {
		t := pooled(r.results[rt.label])
		base := "—"
		if rt.baseline != "" {
			base = fmt.Sprintf("%.2f×", median(r.ratios(rt.label, rt.baseline)))
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %d | %s | %s | **%.2f×** | %s |\n",
			rt.label, thousands(int64(t.rps()+0.5)), ms(t.percentile(0.5)), ms(t.percentile(0.99)), t.errs,
			us(t.cpuPerRequest()), base, r.toRaw(rt.label), thousands(r.sizes[rt.label]))
	}

	fmt.Fprintf(w, "\nRatio to raw Echo in each round:")
	sep := ""
	for _, rt := range r.st.order {
		if rt.label == r.st.raw {
			continue
		}
		fmt.Fprintf(w, "%s `%s`", sep, rt.label)
		for _, x := range r.ratios(rt.label, r.st.raw) {
			fmt.Fprintf(w, " %.2f×", x)
		}
		sep = ";"
	}
	fmt.Fprintln(w, ".")
	fmt.Fprint(w, "\nCPU per request of raw Echo divided by the route's (the ratio the process alone would see, little disturbed by other processes):")
	rawCPU := pooled(r.results[r.st.raw]).cpuPerRequest()
	sep = ""
	for _, rt := range r.st.order {
		if c := pooled(r.results[rt.label]).cpuPerRequest(); c > 0 && rt.label != r.st.raw {
			fmt.Fprintf(w, "%s `%s` %.2f×", sep, rt.label, float64(rawCPU)/float64(c))
			sep = ";"
		}
	}
	fmt.Fprintln(w, ".")
	for _, rt := range r.st.order {
		for _, x := range r.results[rt.label] {
			if x.errs > 0 {
				fmt.Fprintf(w, "\n%s: %d errors, the first: %s\n", rt.label, x.errs, x.firstErr)
				break
			}
		}
	}

	fmt.Fprintf(w, "\nLost updates (the stored visits of each app's %s sessions against its successful /visits):", thousands(int64(r.o.sessions)))
	sep = ""
	for _, a := range append([]*app{r.st.site, r.st.lib}, r.st.scs...) {
		if a == nil {
			continue
		}
		c := r.checks[a.name]
		fmt.Fprintf(w, "%s %s %s (%s stored, %s answered", sep, a.name, thousands(c.lost), thousands(c.stored), thousands(c.counted))
		if c.extra > 0 {
			fmt.Fprintf(w, ", %s stored visits never answered with a 2xx", thousands(c.extra))
		}
		fmt.Fprint(w, ")")
		sep = ";"
	}
	fmt.Fprintln(w, ".")

	if o := r.open; o != nil {
		fmt.Fprintf(w, "\nOpen loop: %s req/s offered to each route (requests start on schedule, latency counted from when each was due), %d rounds of %v, %d connections at most:\n\n",
			thousands(int64(o.rate)), r.o.openRounds, r.o.duration, r.o.openConns)
		fmt.Fprintln(w, "| route | req/s | p50 | p99 | max | errors | CPU/req |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
		for _, l := range o.labels {
			t := pooled(o.results[l])
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %d | %s |\n", l, thousands(int64(t.rps()+0.5)),
				ms(t.percentile(0.5)), ms(t.percentile(0.99)), ms(t.max()), t.errs, us(t.cpuPerRequest()))
		}
	}

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

	fmt.Fprintf(w, "\nTargets:\n\n")
	if r.st.lib != nil {
		get, vis := r.toRaw(labelLibGet), r.toRaw(labelLibVisits)
		target(w, fmt.Sprintf("library `/get` ≥ %.2f× raw Echo", targetLibGet), fmt.Sprintf("%.2f×", get), get >= targetLibGet)
		what, met := fmt.Sprintf("library `/visits` ≥ %.2f× raw Echo", targetLibVisits), vis >= targetLibVisits
		if len(r.st.scs) > 0 {
			mem := r.toRaw(labelMemVisits)
			what += fmt.Sprintf(" and above scs's memstore (%.2f×)", mem)
			met = met && vis > mem
		}
		target(w, what, fmt.Sprintf("%.2f×", vis), met)
	}
	get, vis := r.toRaw(pathGet), r.toRaw(pathVisits)
	target(w, fmt.Sprintf("site `/get` ≥ %.2f× raw Echo", targetSiteGet), fmt.Sprintf("%.2f×", get), get >= targetSiteGet)
	target(w, fmt.Sprintf("site `/visits` ≥ %.2f× raw Echo", targetSiteVisits), fmt.Sprintf("%.2f×", vis), vis >= targetSiteVisits)
	if o := r.open; o != nil {
		raw := pooled(o.results[r.st.raw]).percentile(0.99)
		limit := time.Duration(float64(raw)*targetOpenP99Ratio) + targetOpenP99Slack
		for _, l := range o.labels {
			if l == r.st.raw {
				continue
			}
			p99 := pooled(o.results[l]).percentile(0.99)
			target(w, fmt.Sprintf("`%s` p99 at %s req/s ≤ %.1f × raw Echo's p99 (%s) + %v = %s", l, thousands(int64(o.rate)), targetOpenP99Ratio, ms(raw), targetOpenP99Slack, ms(limit)),
				ms(p99), p99 <= limit)
		}
	}
	if m := r.mem; m != nil {
		target(w, fmt.Sprintf("memory per cached session ≤ %s bytes", thousands(targetMemory)), thousands(int64(m.perSession()+0.5))+" bytes", m.perSession() <= targetMemory)
	}
	for _, a := range []*app{r.st.site, r.st.lib} {
		switch {
		case a == nil:
		case a.lossy:
			fmt.Fprintf(w, "- lost updates (%s): %s, not a target: with signed cookies, of two concurrent requests of one client the last cookie wins\n", a.name, thousands(r.checks[a.name].lost))
		default:
			c := r.checks[a.name]
			target(w, "no lost update ("+a.name+")", thousands(c.lost), c.lost == 0 && c.extra == 0)
		}
	}
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
	fmt.Fprintf(w, "A fresh database of %s expired and %s live sessions (filled in %v); %d connections each load `/get` and `/visits` on %s of the live sessions, before and during `manage clearsessions --verbose`.\n\n",
		thousands(int64(c.o.expired)), thousands(int64(c.o.live)), r.fill.Round(100*time.Millisecond), max(c.o.conns/len(clearPaths), 1), thousands(int64(c.o.sessions)))
	fmt.Fprintln(w, "| route | when | req/s | p50 | p99 | max | errors |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|")
	for _, p := range clearPaths {
		for _, row := range []struct {
			name string
			p    phaseResult
		}{{"before clearsessions", r.before[p]}, {"during clearsessions", r.during[p]}} {
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %d |\n", p, row.name, thousands(int64(row.p.rps()+0.5)),
				ms(row.p.percentile(0.5)), ms(row.p.percentile(0.99)), ms(row.p.max()), row.p.errs)
		}
	}
	fmt.Fprintf(w, "\n`manage clearsessions` took %.1f s and said: %q. Sessions left: %s (want %s). Lost updates of `/visits`: %s (%s stored, %s answered).\n",
		r.took.Seconds(), r.output, thousands(r.remaining), thousands(int64(c.o.live)), thousands(r.lost.lost), thousands(r.lost.stored), thousands(r.lost.counted))
	if r.loadEndedEarly {
		fmt.Fprintf(w, "\nThe load stopped before clearsessions finished (-requests or -timeout): the figures cover only part of the run.\n")
	}
	for _, p := range clearPaths {
		for _, x := range []phaseResult{r.before[p], r.during[p]} {
			if x.errs > 0 {
				fmt.Fprintf(w, "\n%s: %d errors, the first: %s\n", p, x.errs, x.firstErr)
				break
			}
		}
	}
	vp99 := r.during[pathVisits].percentile(0.99)
	fmt.Fprintf(w, "\nTargets:\n\n")
	target(w, fmt.Sprintf("clearsessions of %s expired rows ≤ %v", thousands(int64(c.o.expired)), targetClearTime), fmt.Sprintf("%.1f s", r.took.Seconds()), r.manageSucceeded && r.took <= targetClearTime)
	target(w, fmt.Sprintf("`/visits` p99 during it ≤ %v", targetClearSiteP99), ms(vp99), vp99 <= targetClearSiteP99)
	hold := "not reported"
	if r.longestHold >= 0 {
		hold = ms(r.longestHold)
	}
	target(w, fmt.Sprintf("longest write-lock hold ≤ %v", targetClearHold), hold, r.longestHold >= 0 && r.longestHold <= targetClearHold)
	target(w, "every expired row deleted, every live one kept", fmt.Sprintf("%s deleted, %s left", thousands(r.deleted), thousands(r.remaining)),
		r.deleted == int64(c.o.expired) && r.remaining == int64(c.o.live))
	target(w, "no lost update", thousands(r.lost.lost), r.lost.lost == 0 && r.lost.extra == 0)
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
