package main

import (
	"net/http"
	"strings"
	"sync/atomic"
)

// clientCookies are the Cookie headers of a load's clients, one per
// client, shared by the loaders of one app. With follow set, a response
// that sets that cookie to a new value replaces it in its client's header,
// as a browser does: a signed-cookies session changes its cookie at every
// write. Two requests of one client in flight at once then race, and the
// last answer wins, which is the engine's behaviour too.
type clientCookies struct {
	headers []atomic.Pointer[string]
	follow  string // the cookie to follow, or ""
}

// newClientCookies holds headers; follow names the cookie to follow.
func newClientCookies(headers []string, follow string) *clientCookies {
	c := &clientCookies{headers: make([]atomic.Pointer[string], len(headers)), follow: follow}
	for i := range headers {
		c.headers[i].Store(&headers[i])
	}
	return c
}

// len returns the number of clients.
func (c *clientCookies) len() int { return len(c.headers) }

// get returns client i's Cookie header.
func (c *clientCookies) get(i int) string { return *c.headers[i].Load() }

// update follows the cookie in set, if it is the followed one and new.
func (c *clientCookies) update(i int, set []*http.Cookie) {
	if c.follow == "" {
		return
	}
	for _, ck := range set {
		if ck.Name != c.follow || ck.Value == "" {
			continue
		}
		h := withCookie(c.get(i), c.follow, ck.Value)
		c.headers[i].Store(&h)
	}
}

// withCookie returns the Cookie header h with name's value set to value.
func withCookie(h, name, value string) string {
	parts := strings.Split(h, "; ")
	for i, p := range parts {
		if strings.HasPrefix(p, name+"=") {
			parts[i] = name + "=" + value
			return strings.Join(parts, "; ")
		}
	}
	return strings.Join(append(parts, name+"="+value), "; ")
}
