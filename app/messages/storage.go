package messages

import (
	"context"
	"net/http"
	"slices"
	"sync"

	"github.com/djangosessions/gosessions/app/session"
)

// SessionKey is where Django's SessionStorage keeps the messages that do
// not fit in the cookie: a JSON string in the session.
const SessionKey = "_messages"

// storage is one request's messages, Django's FallbackStorage: loaded on
// first use from the cookie, then, when the cookie says not all messages
// fit in it, from the session.
type storage struct {
	m *Manager
	r *http.Request // its Cookie header, and its session (from its context)

	mu       sync.Mutex
	loaded   bool
	messages []Message // loaded (and, once consumed, those added before)
	queued   []Message // added in this request
	used     bool      // consumed: only messages added after are kept
	addedNew bool
	// cookieSeen: the request carried a messages cookie, valid or not:
	// whatever the response stores, that cookie is replaced or deleted.
	cookieSeen bool
	// sessionUsed: the session held messages (Django's _used_storages):
	// storing fewer removes them.
	sessionUsed bool
}

type ctxKey struct{}

func storageOf(ctx context.Context) *storage {
	st, _ := ctx.Value(ctxKey{}).(*storage)
	return st
}

func (st *storage) add(msg Message) {
	if msg.Text == "" || msg.Level < st.m.cfg.Level {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.addedNew = true
	st.queued = append(st.queued, msg)
}

func (st *storage) consume() []Message {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.load()
	st.used = true
	st.messages = append(st.messages, st.queued...)
	st.queued = nil
	return slices.Clone(st.messages)
}

// load reads the messages once: the cookie, then the session when the
// cookie ends with the not-finished marker. The caller holds mu.
func (st *storage) load() {
	if st.loaded {
		return
	}
	st.loaded = true
	raw, ok := cookieValue(st.r, st.m.cookieName)
	if !ok {
		return // no cookie: Django reads no further
	}
	st.cookieSeen = true
	msgs, finished, err := st.m.decodeCookie(raw)
	if err != nil {
		st.m.cfg.Logger.Warn("messages cookie refused", "error", err)
		return
	}
	st.messages = msgs
	if finished {
		return
	}
	s := session.FromContext(st.r.Context())
	if s == nil {
		return
	}
	stored, err := decodeSession(s.Get(SessionKey, nil))
	if err != nil {
		st.m.cfg.Logger.Warn("messages in the session refused", "error", err)
		return
	}
	if len(stored) > 0 {
		st.sessionUsed = true
	}
	st.messages = append(st.messages, stored...)
}

// update stores what is left for the next request, Django's
// BaseStorage.update: only the messages added since they were consumed,
// or when nothing consumed them and some were added, the old and the new.
// It sets or deletes the cookie in h and changes the session (which the
// session middleware saves afterwards). It reports whether it read the
// request's cookie or session, so that the response varies on Cookie.
func (st *storage) update(h http.Header) (vary bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.used:
		st.store(h, st.queued)
	case st.addedNew:
		st.load()
		st.store(h, append(slices.Clone(st.messages), st.queued...))
	}
	return st.loaded
}

// store is FallbackStorage._store: as many messages as fit go in the
// cookie, oldest first, and the rest in the session. The caller holds mu.
func (st *storage) store(h http.Header, msgs []Message) {
	m := st.m
	rest := msgs
	switch {
	case len(rest) > 0:
		var value string
		value, rest = m.fitCookie(rest)
		h.Add("Set-Cookie", m.cookie(value).String())
	case st.cookieSeen:
		// Django deletes it only when it held messages; a cookie that
		// failed its signature, or held only the marker, goes too.
		h.Add("Set-Cookie", m.deletion().String())
	}
	s := session.FromContext(st.r.Context())
	switch {
	case len(rest) > 0 && s == nil:
		m.cfg.Logger.Warn("messages: some messages did not fit in the cookie and this route has no session: they are lost", "lost", len(rest))
	case len(rest) > 0:
		s.Set(SessionKey, m.encodeSession(rest))
	case st.sessionUsed && s != nil:
		s.Delete(SessionKey)
	}
}
