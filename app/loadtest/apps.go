package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// app is one application under load in the default mode, with its own
// clients: the demo site, the session package as a library (libsite), or
// one of scs's stores (app/loadtest/scs). Every client holds one session
// of the app.
type app struct {
	name   string // as the report names it
	s      *site
	prefix string // of the app's routes on its process ("/mem" for scs's memstore)
	l      *loader
	visits []atomic.Int64 // successful /visits per client
	// lossy marks a library that does not merge concurrent updates
	// (scs): its lost updates are reported, not failed on.
	lossy bool
}

// newApp returns an app on process s whose clients' cookies are yet to
// be made.
func newApp(name string, s *site, prefix string, o options) *app {
	return &app{name: name, s: s, prefix: prefix, l: newLoader(s.url, o.conns, o.reqTimeout), visits: make([]atomic.Int64, o.sessions)}
}

// countVisit records a successful /visits of client i.
func (a *app) countVisit(i int) { a.visits[i].Add(1) }

// route is one measured route of a round.
type route struct {
	label    string // as the report prints it
	app      *app
	path     string // on the app's process, prefix included
	baseline string // the label of the route it is compared with, if any
	visits   bool   // a /visits route: successes are counted for the lost-update check
	sentence string // what its page must say
}

// newSimpleSessions gives each client of a (libsite or scs) a session the
// way a browser would get one: GET /set, keep every cookie it sets, then
// one /visits.
func (a *app) newSimpleSessions(ctx context.Context) error {
	cookies := make([]string, len(a.visits))
	err := a.l.each(ctx, len(cookies), func(ctx context.Context, i int) error {
		set, _, err := a.l.fetch(ctx, a.s.url+a.prefix+"/set", "", nil)
		if err != nil {
			return err
		}
		var parts []string
		for _, c := range set {
			parts = append(parts, c.Name+"="+c.Value)
		}
		if len(parts) == 0 {
			return fmt.Errorf("%s/set sent no cookie", a.prefix)
		}
		cookies[i] = strings.Join(parts, "; ")
		if _, _, err := a.l.fetch(ctx, a.s.url+a.prefix+"/visits", cookies[i], nil); err != nil {
			return err
		}
		a.visits[i].Store(1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: warm-up: %w", a.name, err)
	}
	a.l.cookies = newClientCookies(cookies, "")
	return nil
}

// simpleCounts reads each client's stored visits from /count.
func (a *app) simpleCounts(ctx context.Context) ([]int64, error) {
	stored := make([]int64, len(a.visits))
	err := a.l.each(ctx, len(stored), func(ctx context.Context, i int) error {
		var body bytes.Buffer
		if _, _, err := a.l.fetch(ctx, a.s.url+a.prefix+"/count", a.l.cookies.get(i), &body); err != nil {
			return err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(body.String()), 10, 64)
		if err != nil {
			return fmt.Errorf("%s/count said %q, not a number", a.prefix, body.String())
		}
		stored[i] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: reading back the visits: %w", a.name, err)
	}
	return stored, nil
}

// compareVisits compares stored counts with the successful /visits.
func compareVisits(counted []atomic.Int64, stored []int64) visitCheck {
	var c visitCheck
	for i := range counted {
		want, got := counted[i].Load(), stored[i]
		c.counted += want
		c.stored += got
		if got != want {
			c.sessions++
		}
		if got < want {
			c.lost += want - got
		} else {
			c.extra += got - want
		}
	}
	return c
}
