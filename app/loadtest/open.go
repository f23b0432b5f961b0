package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// openResult is what the open-loop phase measured: every route at one
// offered rate, in interleaved rounds.
type openResult struct {
	rate    float64
	labels  []string                 // in the order of each round
	results map[string][]phaseResult // by label, one per round
}

// openLoop measures latency at a fixed offered rate (an open loop: a
// request starts on schedule whether or not the earlier ones are done,
// and its latency counts from when it was due), which closed-loop figures
// cannot show: with a fixed number of connections, latency is only
// connections divided by throughput. The routes are the bare baseline
// (raw Echo), the library's /visits and the site's /visits; the rate is
// -rate, or a third of the closed-loop throughput of the slowest of them,
// so that every one sustains it with room to spare on a shared machine.
func (b *bench) openLoop(ctx context.Context, st *runState, closed map[string][]phaseResult) (*openResult, error) {
	o := b.o
	var routes []route
	for _, r := range st.order {
		if r.label == st.raw || r.label == labelLibVisits || r.label == pathVisits {
			routes = append(routes, r)
		}
	}
	rate := o.rate
	if rate <= 0 {
		for _, r := range routes {
			var ok int64
			var elapsed time.Duration
			for _, x := range closed[r.label] {
				ok += x.ok
				elapsed += x.elapsed
			}
			if elapsed > 0 {
				if v := float64(ok) / elapsed.Seconds() / 3; rate <= 0 || v < rate {
					rate = v
				}
			}
		}
		rate = float64(int(rate/100)) * 100 // a round figure
	}
	if rate < 1 {
		return nil, fmt.Errorf("open loop: no rate to offer (-rate %v)", o.rate)
	}
	res := &openResult{rate: rate, results: map[string][]phaseResult{}}
	loaders := map[string]*loader{}
	for _, r := range routes {
		res.labels = append(res.labels, r.label)
		l := newLoader(r.app.s.url, o.openConns, o.reqTimeout)
		l.cookies = r.app.l.cookies
		defer l.close()
		loaders[r.label] = l
	}
	b.logf("open loop: %.0f req/s offered, %d rounds of %v per route", rate, o.openRounds, o.duration)
	for round := 1; round <= o.openRounds; round++ {
		for _, r := range routes {
			l := loaders[r.label]
			p := b.phaseOf(r, o.duration)
			cpu0, err := r.app.s.cpuTime()
			if err != nil {
				return nil, err
			}
			x := l.runOpen(ctx, p, rate)
			cpu1, err := r.app.s.cpuTime()
			if err != nil {
				return nil, err
			}
			x.siteCPU = cpu1 - cpu0
			res.results[r.label] = append(res.results[r.label], x)
			b.logf("open round %d/%d %-18s %6.0f req/s  p50 %s  p99 %s  max %s  errors %d",
				round, o.openRounds, r.label, x.rps(), ms(x.percentile(0.5)), ms(x.percentile(0.99)), ms(x.max()), x.errs)
		}
	}
	return res, nil
}

// runOpen offers p.path at rate requests per second for p.duration, on
// l.conns connections, each request sending the next client's cookies.
// A request's latency counts from the moment it was due, so a server (or
// a load generator) that falls behind shows as latency instead of as a
// lower rate (no coordinated omission).
func (l *loader) runOpen(ctx context.Context, p phase, rate float64) phaseResult {
	n := max(int(p.duration.Seconds()*rate), 1)
	interval := time.Duration(float64(time.Second) / rate)
	due := make(chan time.Time, n)
	res := phaseResult{path: p.path}
	url := l.base + p.path
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for range l.conns {
		wg.Go(func() {
			var w phaseResult // this connection's, added to res at the end
			for at := range due {
				i := int((l.next.Add(1) - 1) % uint64(l.cookies.len()))
				err := l.get(ctx, url, i)
				d := time.Since(at)
				if w.record(err, d) && p.success != nil {
					p.success(i)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.add(w)
		})
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
schedule:
	for k := range n {
		at := start.Add(time.Duration(k) * interval)
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				res.limited = true
				break schedule
			}
		}
		due <- at
	}
	close(due)
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.lat)
	return res
}
