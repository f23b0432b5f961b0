package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
)

const sessionsUsage = `Usage: manage sessions <command> [options] [--database-url URL]

Operates the site's sessions: what a Django developer does in manage.py shell
with the Session model. Session keys are credentials: list shows their first
8 characters unless --show-keys, and KEY-OR-PREFIX is a whole key or at least
its first 6 characters. Data is decoded with SECRET_KEY and
SECRET_KEY_FALLBACKS (or the development key kept beside the SQLite file).

  list [--limit N] [--expired] [--show-keys] [--json]
      Live sessions, latest expiry first, 50 unless --limit (--expired: only
      expired ones): key, expiry, size in bytes, the keys of its data.
      --json: one JSON object per line.
      Django: Session.objects.filter(expire_date__gt=now).order_by("-expire_date")[:50]

  show KEY-OR-PREFIX [--json]
      The session's decoded data and expiry.
      Django: Session.objects.get(session_key__startswith=prefix).get_decoded()

  delete KEY-OR-PREFIX
      Deletes the session: its user is logged out at the next request.
      Django: Session.objects.get(session_key__startswith=prefix).delete()

  revoke --where NAME=VALUE [--dry-run]
      Deletes every live session whose data has NAME equal to VALUE: a string
      equal to VALUE, or a number, boolean or null whose JSON is VALUE
      (_auth_user_id=42 matches Django's "42"; visits=3 the number 3). A
      session changed meanwhile is checked again before it goes. Prints how
      many it deleted and how many had already gone (logged out, expired,
      or moved to a new key by a login), and goes over the sessions again
      until a pass finds none left that matches, so that a session moved
      to a new key meanwhile is caught too (at most 10 passes; exit status
      1 if the last still finds one). --dry-run only lists them.
      Django: for s in Session.objects.filter(expire_date__gt=now).iterator():
                  if s.get_decoded().get(NAME) == VALUE: s.delete()

  stats [--json]
      Live and expired counts, total and average size, earliest and latest
      expiry.
      Django: Session.objects.filter(expire_date__gt=now).aggregate(Count("pk"),
                  Sum(Length("session_data")), Min("expire_date"), Max("expire_date"))

Exit status: 0 on success (also when revoke matches nothing); 1 for an
unknown key, an ambiguous prefix, data that fails its signature (show), or a
database that cannot be read; 2 for a wrong command line.
`

// Key display and lookup limits.
const (
	shownKeyLen  = 8 // characters of a key that list and messages show
	minPrefixLen = 6
	maxKeyLen    = 40 // django_session.session_key is varchar(40)
	defaultLimit = 50
)

// runSessions is `manage sessions`: it returns the name to report errors
// under ("sessions list") and the outcome.
func runSessions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (string, error) {
	if len(args) == 0 {
		return "sessions", usagef("no command given: list, show, delete, revoke or stats")
	}
	name, args := args[0], args[1:]
	c := &sessionsCmd{getenv: getenv, stdout: stdout, stderr: stderr, now: time.Now()}
	var err error
	switch name {
	case "-h", "-help", "--help", "help":
		return "sessions", flag.ErrHelp
	case "list":
		err = c.list(ctx, args)
	case "show":
		err = c.show(ctx, args)
	case "delete":
		err = c.delete(ctx, args)
	case "revoke":
		err = c.revoke(ctx, args)
	case "stats":
		err = c.stats(ctx, args)
	default:
		return "sessions", usagef("unknown command %q: want list, show, delete, revoke or stats", name)
	}
	return "sessions " + name, err
}

// sessionsCmd is one run of a sessions command.
type sessionsCmd struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	now            time.Time // one instant for the whole run

	cfg app.Config
	db  *database.DB
	src source
	// signer decodes stored data (list, show, revoke).
	signer *signing.TimestampSigner
}

// flags returns a flag set with --database-url.
func (c *sessionsCmd) flags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("sessions "+name, flag.ContinueOnError)
	return fs, fs.String("database-url", "", "database URL")
}

// open loads the configuration, opens the database and the source, and
// with decode the signer. Call the returned function when done.
func (c *sessionsCmd) open(ctx context.Context, dbURL string, decode bool) (func(), error) {
	var args []string
	if dbURL != "" {
		args = []string{"-database-url=" + dbURL}
	}
	cfg, err := app.LoadConfig(args, c.getenv)
	if err != nil {
		return nil, err
	}
	c.cfg = cfg
	if decode {
		// A warning about the development key's file (readable by
		// others) goes to stderr.
		log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		key, fallbacks, err := app.SigningKeys(cfg, log)
		if err != nil {
			return nil, err
		}
		c.signer = signing.NewTimestampSigner(key, fallbacks, session.SessionSalt)
	}
	switch cfg.SessionEngine.Needs(cfg.Cache != nil).Record {
	case engine.InCookie:
		return nil, fmt.Errorf("SESSION_ENGINE=%s keeps each session in its browser's cookie: there are no sessions on the server to list or end", cfg.SessionEngine)
	case engine.InMemory:
		return nil, fmt.Errorf("SESSION_ENGINE=%s without CACHE_URL keeps sessions in the site process's own memory, out of manage's reach", cfg.SessionEngine)
	case engine.InRedis:
		src, err := openRedisSource(ctx, cfg)
		if err != nil {
			return nil, err
		}
		c.src = src
		return func() { src.close() }, nil
	}
	quiet := slog.New(slog.DiscardHandler)
	db, err := either.Open(ctx, cfg.Database, database.WithLogger(quiet))
	if err != nil {
		return nil, err
	}
	src, err := openDBSource(cfg, db, quiet)
	if err != nil {
		db.Close()
		return nil, err
	}
	c.db, c.src = db, src
	return func() {
		src.close()
		db.Close()
	}, nil
}

// decoded is a stored session, decoded.
type decoded struct {
	rec  session.Record
	data map[string]any // nil when it did not decode
	bad  string         // why it did not decode: "bad signature" or "malformed data"
}

func (c *sessionsCmd) decode(rec session.Record) decoded {
	data, err := c.signer.Loads(rec.Data)
	switch {
	case err == nil:
		return decoded{rec: rec, data: data}
	case errors.Is(err, signing.ErrBadSignature):
		return decoded{rec: rec, bad: "bad signature"}
	}
	return decoded{rec: rec, bad: "malformed data"}
}

// undecodableNote is the warning for sessions that were not decoded.
func undecodableNote(n int) string {
	return fmt.Sprintf("%d %s could not be decoded (bad signature: signed with a key that is not SECRET_KEY or SECRET_KEY_FALLBACKS, or altered)", n, plural(n, "session", "sessions"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shortKey is the part of a key that may be shown: the first 8
// characters.
func shortKey(key string) string {
	if len(key) > shownKeyLen {
		return key[:shownKeyLen]
	}
	return key
}

// utc formats t for a table: UTC, to the second.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// listLine is one line of `list --json`.
type listLine struct {
	Key        string    `json:"key"`
	ExpireDate time.Time `json:"expire_date"`
	Size       int       `json:"size"`
	Keys       []string  `json:"keys"`            // sorted; null when not decoded
	Error      string    `json:"error,omitempty"` // why it was not decoded
}

// list is `manage sessions list`.
func (c *sessionsCmd) list(ctx context.Context, args []string) error {
	fs, dbURL := c.flags("list")
	limit := fs.Int("limit", defaultLimit, "sessions shown")
	exp := fs.Bool("expired", false, "only expired sessions")
	showKeys := fs.Bool("show-keys", false, "whole keys")
	asJSON := fs.Bool("json", false, "JSON Lines")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *limit < 1 {
		return usagef("invalid --limit %d: want 1 or more", *limit)
	}
	done, err := c.open(ctx, *dbURL, true)
	if err != nil {
		return err
	}
	defer done()

	which, kind := live, "live"
	if *exp {
		which, kind = expired, "expired"
	}
	out := bufio.NewWriter(c.stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	keyWidth := shownKeyLen
	if *showKeys {
		keyWidth = 32 // Django's and this site's keys
	}
	n, bad := 0, 0
	err = c.src.latest(ctx, which, c.now, *limit, func(rec session.Record) error {
		d := c.decode(rec)
		key := shortKey(rec.Key)
		if *showKeys {
			key = rec.Key
		}
		var keys []string
		if d.data != nil {
			keys = slices.Sorted(maps.Keys(d.data))
		} else {
			bad++
		}
		if *asJSON {
			if keys == nil && d.data != nil {
				keys = []string{}
			}
			n++
			return enc.Encode(listLine{Key: key, ExpireDate: rec.Expires.UTC(), Size: len(rec.Data), Keys: keys, Error: d.bad})
		}
		if n == 0 {
			fmt.Fprintf(out, "%-*s  %-19s  %7s  %s\n", keyWidth, "KEY", "EXPIRES (UTC)", "SIZE", "KEYS")
		}
		n++
		desc := strings.Join(keys, ", ")
		switch {
		case d.data == nil:
			desc = "(" + d.bad + ")"
		case len(keys) == 0:
			desc = "(empty)"
		}
		_, err := fmt.Fprintf(out, "%-*s  %-19s  %7d  %s\n", keyWidth, key, utc(rec.Expires), len(rec.Data), desc)
		if n%batchSize == 0 {
			return out.Flush() // stream: a million lines never sit in memory
		}
		return err
	})
	if n == 0 && !*asJSON && err == nil {
		fmt.Fprintf(out, "No %s sessions.\n", kind)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if bad > 0 {
		fmt.Fprintf(c.stderr, "manage sessions list: %s\n", undecodableNote(bad))
	}
	return nil
}

// find returns the one session that key (a key or a prefix) names.
func (c *sessionsCmd) find(ctx context.Context, key string) (session.Record, error) {
	recs, err := c.src.lookup(ctx, key)
	if err != nil {
		return session.Record{}, err
	}
	switch len(recs) {
	case 0:
		return session.Record{}, fmt.Errorf("no session has a key starting with %s", shortKey(key))
	case 1:
		return recs[0], nil
	}
	return session.Record{}, fmt.Errorf("%s is the start of several session keys: give more characters", shortKey(key))
}

// keyArg reads the KEY-OR-PREFIX argument of show and delete.
func keyArg(pos []string) (string, error) {
	switch {
	case len(pos) == 0:
		return "", usagef("give a session key, or at least its first %d characters", minPrefixLen)
	case len(pos) > 1:
		return "", usagef("give one session key (got %d arguments)", len(pos))
	}
	k := pos[0]
	if len(k) < minPrefixLen {
		return "", usagef("a key prefix needs at least %d characters (got %d)", minPrefixLen, len(k))
	}
	if len(k) > maxKeyLen || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		// Not echoed: it may be a credential pasted with a typo.
		return "", usagef("not a session key: keys are up to %d characters of a-z and 0-9", maxKeyLen)
	}
	return k, nil
}

// openOne parses the arguments of a command about one session (show,
// delete) with fs, whose --database-url is dbURL, opens the database
// (decoding the data when decode is set) and finds the session. done
// closes the database.
func (c *sessionsCmd) openOne(ctx context.Context, fs *flag.FlagSet, dbURL *string, args []string, decode bool) (rec session.Record, done func(), err error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return rec, nil, err
	}
	key, err := keyArg(pos)
	if err != nil {
		return rec, nil, err
	}
	if done, err = c.open(ctx, *dbURL, decode); err != nil {
		return rec, nil, err
	}
	if rec, err = c.find(ctx, key); err != nil {
		done()
		return rec, nil, err
	}
	return rec, done, nil
}

// showDoc is `show --json`.
type showDoc struct {
	Key        string         `json:"key"`
	ExpireDate time.Time      `json:"expire_date"`
	Expired    bool           `json:"expired"`
	Size       int            `json:"size"`
	Data       map[string]any `json:"data"`
}

// show is `manage sessions show`.
func (c *sessionsCmd) show(ctx context.Context, args []string) error {
	fs, dbURL := c.flags("show")
	asJSON := fs.Bool("json", false, "one JSON object")
	rec, done, err := c.openOne(ctx, fs, dbURL, args, true)
	if err != nil {
		return err
	}
	defer done()
	d := c.decode(rec)
	if d.data == nil {
		return fmt.Errorf("session %s could not be decoded: %s (signed with a key that is not SECRET_KEY or SECRET_KEY_FALLBACKS, or altered)", shortKey(rec.Key), d.bad)
	}
	isExpired := !rec.Expires.After(c.now)
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(showDoc{Key: shortKey(rec.Key), ExpireDate: rec.Expires.UTC(), Expired: isExpired, Size: len(rec.Data), Data: d.data})
	}
	when := "in " + span(rec.Expires.Sub(c.now))
	if isExpired {
		when = "expired " + span(c.now.Sub(rec.Expires)) + " ago"
	}
	body, err := json.MarshalIndent(d.data, "", "  ")
	if err != nil {
		return fmt.Errorf("show session %s: %w", shortKey(rec.Key), err)
	}
	_, err = fmt.Fprintf(c.stdout, "Session: %s\nExpires: %s UTC (%s)\nSize:    %d bytes\nData:    %s\n",
		shortKey(rec.Key), utc(rec.Expires), when, len(rec.Data), unescapeHTML(body))
	return err
}

// unescapeHTML undoes encoding/json's \u003c, \u003e and \u0026, which
// only hinder a reader of a terminal.
func unescapeHTML(b []byte) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b))
}

// span is d in words, to the largest two units: "13 days 23 hours".
func span(d time.Duration) string {
	d = d.Round(time.Second)
	units := []struct {
		name string
		d    time.Duration
	}{{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}, {"second", time.Second}}
	var parts []string
	for _, u := range units {
		if n := int64(d / u.d); n > 0 || (u.d == time.Second && len(parts) == 0) {
			parts = append(parts, fmt.Sprintf("%d %s", n, plural(int(n), u.name, u.name+"s")))
			d -= time.Duration(n) * u.d
		}
		if len(parts) == 2 {
			break
		}
	}
	return strings.Join(parts, " ")
}

// delete is `manage sessions delete`.
func (c *sessionsCmd) delete(ctx context.Context, args []string) error {
	fs, dbURL := c.flags("delete")
	rec, done, err := c.openOne(ctx, fs, dbURL, args, false)
	if err != nil {
		return err
	}
	defer done()
	// The store's conditional delete, as the site's logout does it: a
	// request saving the session meanwhile makes it fail, and the session
	// is read again and deleted as it is now.
	for attempt := 0; ; attempt++ {
		err := c.src.store().Delete(ctx, rec.Key, rec.Data)
		if err == nil {
			break
		}
		if errors.Is(err, session.ErrNotFound) {
			return c.goneMeanwhile(rec.Key)
		}
		if !errors.Is(err, session.ErrConflict) || attempt == maxAttempts {
			return fmt.Errorf("delete session %s: %w", shortKey(rec.Key), err)
		}
		recs, err := c.src.lookup(ctx, rec.Key)
		if err != nil {
			return err
		}
		if len(recs) == 0 || recs[0].Key != rec.Key {
			return c.goneMeanwhile(rec.Key)
		}
		rec = recs[0]
	}
	_, err = fmt.Fprintf(c.stdout, "Deleted session %s.\n", shortKey(rec.Key))
	return err
}

// goneMeanwhile reports a session that delete found and then found gone:
// a request logged it out, or moved it to a new key (a login), or it
// expired, between the read and the delete.
func (c *sessionsCmd) goneMeanwhile(key string) error {
	_, err := fmt.Fprintf(c.stdout, "Session %s had already gone (logged out, expired, or moved to a new key by a login) when it was to be deleted.\n", shortKey(key))
	return err
}

// maxAttempts bounds the re-reads of a session that keeps changing under
// delete and revoke. Each conflict means a request saved it, so a live
// session gets there in a few; the bound guards against a broken store.
const maxAttempts = 100

// where is revoke's --where NAME=VALUE.
type where struct{ name, value string }

func parseWhere(s string) (where, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return where{}, usagef("invalid --where %q: want NAME=VALUE, such as _auth_user_id=42", s)
	}
	return where{name, value}, nil
}

// matches reports whether data[NAME] is VALUE: a string equal to it, or a
// number, boolean or null whose JSON text is it. Lists and objects never
// match.
func (w where) matches(data map[string]any) bool {
	v, ok := data[w.name]
	if !ok {
		return false
	}
	switch v := v.(type) {
	case string:
		return v == w.value
	case json.Number:
		return v.String() == w.value
	case bool:
		return strconv.FormatBool(v) == w.value
	case nil:
		return w.value == "null"
	}
	return false
}

func (w where) String() string { return w.name + " = " + strconv.Quote(w.value) }

// revoke is `manage sessions revoke`.
func (c *sessionsCmd) revoke(ctx context.Context, args []string) error {
	fs, dbURL := c.flags("revoke")
	whereFlag := fs.String("where", "", "NAME=VALUE")
	dryRun := fs.Bool("dry-run", false, "list, delete nothing")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *whereFlag == "" {
		return usagef("--where NAME=VALUE is required")
	}
	w, err := parseWhere(*whereFlag)
	if err != nil {
		return err
	}
	done, err := c.open(ctx, *dbURL, true)
	if err != nil {
		return err
	}
	defer done()
	return c.revokeWhere(ctx, w, *dryRun)
}

// maxRevokePasses bounds revoke's passes over the sessions. A session
// whose holder keeps cycling its key (a login in a loop) can move to a key
// that a pass has already gone by, or move again between the pass's read
// and its delete; the next pass looks for it. The bound stops a run
// against a client that moves faster than revoke can delete, or logs in
// again as fast as revoke deletes.
const maxRevokePasses = 20

// chaseMargin widens the window of a pass that looks for moved sessions:
// the new record of a moved session expires no earlier than the old one
// did, by the clock of the host that saved it; hosts' clocks may differ
// by this much.
const chaseMargin = time.Minute

// revokeTally counts what a revoke pass did to the sessions it found
// matching.
type revokeTally struct {
	matched int // live sessions whose data matched when read
	deleted int // deleted by revoke
	gone    int // already gone when revoke came to delete them
	kept    int // changed meanwhile and no longer matching
	// goneFrom is the earliest expiry of the sessions that had gone: any
	// of them that moved to a new key expires at or after it.
	goneFrom time.Time
}

// revokeOutcome is what revokeOne did to a session.
type revokeOutcome int

const (
	revokeDeleted revokeOutcome = iota // deleted by revoke
	revokeGone                         // deleted, expired or moved to a new key by another request first
	revokeKept                         // changed meanwhile, no longer matching
)

// revokeWhere deletes (or with dryRun lists) the live sessions matching
// w and prints what it did. It repeats its pass over the sessions until a
// pass finds none left that matches, at most maxRevokePasses times, so
// that a session that a request moved to a new key meanwhile (a login
// cycles the key) is caught: revoke ends a session even while its holder
// cycles keys in a loop.
//
// Each pass reads one consistent view of the database (see
// source.snapshot), and a key cycle creates the new record before it
// deletes the old one, so a session alive at that instant is seen under
// one of its keys: a pass that read batch after batch could miss a
// session moving from a batch not yet read to one already read. After a
// pass in which sessions had gone before revoke could delete them, the
// next pass reads only the sessions that could be those moved (expiring
// no earlier than they did, less chaseMargin): a small set, read and
// deleted quickly enough to catch a session between two moves. So a pass
// that finds nothing proves that no session revoke found is left, under
// any key; and none comes back afterwards (a cycle whose old record is
// gone fails).
func (c *sessionsCmd) revokeWhere(ctx context.Context, w where, dryRun bool) error {
	out := bufio.NewWriter(c.stdout)
	defer out.Flush()
	if dryRun {
		n, bad, err := c.revokePass(ctx, w, out, true, time.Time{})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Would revoke %d %s where %s.\n", n.matched, plural(n.matched, "session", "sessions"), w)
		if err := out.Flush(); err != nil {
			return err
		}
		c.undecodable(bad)
		return nil
	}
	var total revokeTally
	bad, passes := 0, 0
	var since time.Time // the window of the next pass; zero: every live session
	for {
		passes++
		pass, b, err := c.revokePass(ctx, w, out, false, since)
		total.deleted += pass.deleted
		total.gone += pass.gone
		total.kept += pass.kept
		if passes == 1 {
			bad = b
		}
		if err != nil {
			return fmt.Errorf("revoked %d %s in %d %s, then failed: %w", total.deleted, plural(total.deleted, "session", "sessions"), passes, plural(passes, "pass", "passes"), err)
		}
		if pass.matched == 0 {
			break
		}
		if passes == maxRevokePasses {
			c.revokeReport(out, w, total, passes, false)
			out.Flush()
			c.undecodable(bad)
			return fmt.Errorf("the last of %d passes still found %d %s where %s (a client is creating or moving them faster than revoke deletes them): run revoke again", passes, pass.matched, plural(pass.matched, "session", "sessions"), w)
		}
		if pass.gone > 0 {
			chase := pass.goneFrom.Add(-chaseMargin)
			if since.IsZero() || chase.Before(since) {
				since = chase
			}
		}
	}
	c.revokeReport(out, w, total, passes, true)
	if err := out.Flush(); err != nil {
		return err
	}
	c.undecodable(bad)
	return nil
}

// revokeReport prints what revoke did over its passes; done tells
// whether the last pass found nothing left.
func (c *sessionsCmd) revokeReport(out io.Writer, w where, t revokeTally, passes int, done bool) {
	fmt.Fprintf(out, "Revoked %d %s where %s.\n", t.deleted, plural(t.deleted, "session", "sessions"), w)
	if t.gone > 0 {
		fmt.Fprintf(out, "%d %s had already gone when revoke came to delete %s (logged out, expired, or moved to a new key by a login: the next pass looked for the new key).\n",
			t.gone, plural(t.gone, "session", "sessions"), plural(t.gone, "it", "them"))
	}
	if t.kept > 0 {
		fmt.Fprintf(out, "Kept %d %s that changed meanwhile and no longer %s.\n", t.kept, plural(t.kept, "session", "sessions"), plural(t.kept, "matches", "match"))
	}
	switch {
	case done && passes > 1:
		fmt.Fprintf(out, "%d passes (at most %d); the last found no session left that matches.\n", passes, maxRevokePasses)
	case !done:
		fmt.Fprintf(out, "%d passes, the most revoke makes; the last still found sessions that match.\n", passes)
	}
}

// undecodable reports on stderr the sessions revoke could not check.
func (c *sessionsCmd) undecodable(bad int) {
	if bad > 0 {
		fmt.Fprintf(c.stderr, "manage sessions revoke: %s; they were not checked\n", undecodableNote(bad))
	}
}

// revokePass goes once over the live sessions (those expiring at or after
// since, unless since is zero): it lists the matching ones (dryRun, a
// batch at a time) or revokes them (from one consistent view,
// source.snapshot).
func (c *sessionsCmd) revokePass(ctx context.Context, w where, out *bufio.Writer, dryRun bool, since time.Time) (revokeTally, int, error) {
	var t revokeTally
	bad := 0
	walk := func(ctx context.Context, cl class, now time.Time, fn func([]session.Record) error) error {
		return c.src.snapshot(ctx, cl, now, since, fn)
	}
	if dryRun {
		walk = c.src.each
	}
	err := walk(ctx, live, c.now, func(batch []session.Record) error {
		for _, rec := range batch {
			d := c.decode(rec)
			if d.data == nil {
				bad++
				continue
			}
			if !w.matches(d.data) {
				continue
			}
			t.matched++
			if dryRun {
				fmt.Fprintf(out, "%s  expires %s UTC\n", shortKey(rec.Key), utc(rec.Expires))
				continue
			}
			outcome, err := c.revokeOne(ctx, w, rec)
			if err != nil {
				return err
			}
			switch outcome {
			case revokeDeleted:
				t.deleted++
			case revokeGone:
				t.gone++
				if t.goneFrom.IsZero() || rec.Expires.Before(t.goneFrom) {
					t.goneFrom = rec.Expires
				}
			case revokeKept:
				t.kept++
			}
		}
		return out.Flush()
	})
	return t, bad, err
}

// revokeOne deletes rec if its data is still what was read; when a
// request saved it meanwhile, it reads it again and deletes it only if it
// still matches. The store's conditional delete tells a session deleted
// by revoke from one that had already gone (ErrNotFound): logged out,
// expired, or moved to a new key, which the next pass looks for.
func (c *sessionsCmd) revokeOne(ctx context.Context, w where, rec session.Record) (revokeOutcome, error) {
	st := c.src.store()
	for attempt := 0; ; attempt++ {
		err := st.Delete(ctx, rec.Key, rec.Data)
		if err == nil {
			return revokeDeleted, nil
		}
		if errors.Is(err, session.ErrNotFound) {
			return revokeGone, nil
		}
		if !errors.Is(err, session.ErrConflict) || attempt == maxAttempts {
			return 0, fmt.Errorf("delete session %s: %w", shortKey(rec.Key), err)
		}
		rec, err = st.Load(ctx, rec.Key)
		if errors.Is(err, session.ErrNotFound) {
			return revokeGone, nil
		}
		if err != nil {
			return 0, err
		}
		if d := c.decode(rec); d.data == nil || !w.matches(d.data) {
			return revokeKept, nil
		}
	}
}

// classStats sums up the sessions of one class.
type classStats struct {
	Count    int64      `json:"count"`
	Bytes    int64      `json:"bytes"`
	Average  int64      `json:"average_bytes"`
	Earliest *time.Time `json:"earliest_expiry"`
	Latest   *time.Time `json:"latest_expiry"`
}

// stats is `manage sessions stats`.
func (c *sessionsCmd) stats(ctx context.Context, args []string) error {
	fs, dbURL := c.flags("stats")
	asJSON := fs.Bool("json", false, "one JSON object")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	done, err := c.open(ctx, *dbURL, false)
	if err != nil {
		return err
	}
	defer done()
	var st struct {
		Live    classStats `json:"live"`
		Expired classStats `json:"expired"`
	}
	if st.Live, st.Expired, err = c.src.summary(ctx, c.now); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(st)
	}
	out := bufio.NewWriter(c.stdout)
	fmt.Fprintf(out, "%-8s  %9s  %12s  %8s  %-19s  %s\n", "SESSIONS", "COUNT", "BYTES", "AVERAGE", "EARLIEST EXPIRY", "LATEST EXPIRY")
	for _, row := range []struct {
		name string
		s    classStats
	}{{"live", st.Live}, {"expired", st.Expired}} {
		earliest, latest := "-", "-"
		if row.s.Count > 0 {
			earliest, latest = utc(*row.s.Earliest), utc(*row.s.Latest)
		}
		fmt.Fprintf(out, "%-8s  %9d  %12d  %8d  %-19s  %s\n", row.name, row.s.Count, row.s.Bytes, row.s.Average, earliest, latest)
	}
	fmt.Fprintln(out, "Expiry times are UTC.")
	return out.Flush()
}
