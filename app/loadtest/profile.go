package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// profile is the -profile mode: the apps of the default mode, then load
// on one route while its process records a CPU profile (its
// /debug/pprof/profile, which the site serves with BENCH_ROUTES=1 and the
// library app always), written to -profile-out for go tool pprof.
func (b *bench) profile(ctx context.Context, out io.Writer) (bool, error) {
	o := b.o
	var stops []func() error
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	st, err := b.startApps(ctx, &stops)
	if err != nil {
		return false, err
	}
	var r *route
	for i := range st.order {
		if st.order[i].label == o.profile {
			r = &st.order[i]
		}
	}
	if r == nil {
		var labels []string
		for _, x := range st.order {
			labels = append(labels, x.label)
		}
		return false, fmt.Errorf("-profile %q: no such route; the routes are %q", o.profile, labels)
	}
	if o.warmup > 0 {
		r.app.l.run(ctx, b.phaseOf(*r, o.warmup))
	}
	secs := int(o.profileTime.Round(time.Second) / time.Second)
	b.logf("profiling %s for %d s under load", r.label, secs)
	got := make(chan error, 1)
	go func() {
		got <- fetchProfile(ctx, r.app.s.url+"/debug/pprof/profile?seconds="+fmt.Sprint(secs), o.profileOut, o.profileTime)
	}()
	res, err := measure(ctx, r.app.s, r.app.l, b.phaseOf(*r, o.profileTime+time.Second))
	if err != nil {
		return false, err
	}
	if err := <-got; err != nil {
		return false, err
	}
	fmt.Fprintf(out, "Profile of `%s` under %d connections: %s req/s, p99 %s, CPU %s/req, %d errors; written to %s (go tool pprof -top %s).\n",
		r.label, o.conns, thousands(int64(res.rps()+0.5)), ms(res.percentile(0.99)), us(res.cpuPerRequest()), res.errs, o.profileOut, o.profileOut)
	return res.errs == 0, nil
}

// fetchProfile saves the CPU profile at url, recorded for d, to path.
func fetchProfile(ctx context.Context, url, path string, d time.Duration) error {
	hc := &http.Client{Timeout: d + 30*time.Second, Transport: &http.Transport{Proxy: nil}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s answered %d (is the site built from this tree?)", url, res.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile: %w", err)
	}
	return f.Close()
}
