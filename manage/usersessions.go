package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/usersessions"
	"github.com/djangosessions/gosessions/models"
)

// users is the per-user index of the configured engine, read through a
// session manager on the source's store (the site's SECRET_KEY and
// absolute timeout), and the database of the users.
type users struct {
	idx  *usersessions.Index
	list *usersessions.Sessions
	db   *database.DB
}

// openUsers opens the index after c.open; with read, also the session
// manager that reads the sessions (c.open must have decoded: it needs
// the keys). Call the returned function when done.
func (c *sessionsCmd) openUsers(ctx context.Context, read bool) (*users, func(), error) {
	quiet := slog.New(slog.DiscardHandler)
	var closers []func()
	done := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	db := c.db
	if db == nil { // Redis keeps the sessions; the users are in the database
		var err error
		if db, err = either.Open(ctx, c.cfg.Database, database.WithLogger(quiet)); err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { db.Close() })
	}
	ui, err := app.NewUserIndex(ctx, c.cfg, c.db, quiet)
	if err != nil {
		done()
		if errors.Is(err, usersessions.ErrNotMigrated) {
			return nil, nil, errors.New("the database is not migrated (no gosessions_usersession table): run `manage migrate` first")
		}
		return nil, nil, err
	}
	closers = append(closers, ui.Abandon)
	if !read {
		return &users{idx: ui.Index, db: db}, done, nil
	}
	m, err := session.New(session.Config{
		Store: c.src.store(), SecretKey: c.key, SecretKeyFallbacks: c.fallbacks,
		AbsoluteTimeout: c.cfg.Session.AbsoluteTimeout, Logger: quiet,
	})
	if err != nil {
		done()
		return nil, nil, err
	}
	return &users{idx: ui.Index, list: ui.Index.Sessions(m), db: db}, done, nil
}

// userID returns the index's owner of username: the id of that row of
// auth_user, as a string; an unknown username is an error.
func (u *users) userID(ctx context.Context, username string) (string, error) {
	var user models.User
	err := u.db.Gorm.WithContext(ctx).Where("username = ?", username).Take(&user).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", fmt.Errorf("no user named %q", username)
	}
	if err != nil {
		return "", fmt.Errorf("read auth_user: %w", err)
	}
	return strconv.FormatInt(user.ID, 10), nil
}

// userLine is one line of `list --user --json`.
type userLine struct {
	Key       string    `json:"key"`
	Device    string    `json:"device"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	Expires   time.Time `json:"expire_date"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
}

// openIndexed opens the sessions (c.open, decoding) and the index with
// the manager that reads them (c.openUsers). Call the returned function
// when done.
func (c *sessionsCmd) openIndexed(ctx context.Context, dbURL string) (*users, func(), error) {
	done, err := c.open(ctx, dbURL, true)
	if err != nil {
		return nil, nil, err
	}
	u, closeUsers, err := c.openUsers(ctx, true)
	if err != nil {
		done()
		return nil, nil, err
	}
	return u, func() { closeUsers(); done() }, nil
}

// openUser is openIndexed for the sessions of one user: it also returns
// the index's owner of username.
func (c *sessionsCmd) openUser(ctx context.Context, dbURL, username string) (*users, string, func(), error) {
	u, done, err := c.openIndexed(ctx, dbURL)
	if err != nil {
		return nil, "", nil, err
	}
	owner, err := u.userID(ctx, username)
	if err != nil {
		done()
		return nil, "", nil, err
	}
	return u, owner, done, nil
}

// listUser is `manage sessions list --user USERNAME`.
func (c *sessionsCmd) listUser(ctx context.Context, dbURL, username string, showKeys, asJSON bool) error {
	u, owner, done, err := c.openUser(ctx, dbURL, username)
	if err != nil {
		return err
	}
	defer done()
	ds, err := u.list.List(ctx, owner, "")
	if err != nil {
		return err
	}
	out := bufio.NewWriter(c.stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	keyWidth := shownKeyLen
	if showKeys {
		keyWidth = 32
	}
	for i, d := range ds {
		key := shortKey(d.Key)
		if showKeys {
			key = d.Key
		}
		if asJSON {
			if err := enc.Encode(userLine{Key: key, Device: d.ID, Created: d.Created.UTC(), LastSeen: d.LastSeen.UTC(), Expires: d.Expires.UTC(), IP: d.IP, UserAgent: d.UserAgent}); err != nil {
				return err
			}
			continue
		}
		if i == 0 {
			fmt.Fprintf(out, "%-*s  %-16s  %-19s  %-19s  %-19s  %-15s  %s\n", keyWidth, "KEY", "DEVICE", "SIGNED IN (UTC)", "LAST SEEN (UTC)", "EXPIRES (UTC)", "ADDRESS", "USER AGENT")
		}
		fmt.Fprintf(out, "%-*s  %-16s  %-19s  %-19s  %-19s  %-15s  %s\n", keyWidth, key, d.ID, utc(d.Created), utc(d.LastSeen), utc(d.Expires), d.IP, d.UserAgent)
	}
	if len(ds) == 0 && !asJSON {
		fmt.Fprintf(out, "No live sessions of %s.\n", username)
	}
	return out.Flush()
}

// revokeUser is `manage sessions revoke --user USERNAME`.
func (c *sessionsCmd) revokeUser(ctx context.Context, dbURL, username string, dryRun bool) error {
	if dryRun {
		return c.listUser(ctx, dbURL, username, false, false)
	}
	u, owner, done, err := c.openUser(ctx, dbURL, username)
	if err != nil {
		return err
	}
	defer done()
	n, err := u.list.SignOutAll(ctx, owner)
	if err != nil {
		return fmt.Errorf("revoked %d %s of %s, then failed: %w", n, plural(n, "session", "sessions"), username, err)
	}
	fmt.Fprintf(c.stdout, "Revoked %d %s of %s.\n", n, plural(n, "session", "sessions"), username)
	return nil
}

// reindex is `manage sessions reindex`.
func (c *sessionsCmd) reindex(ctx context.Context, args []string) error {
	fs, dbURL := c.flags("reindex")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	u, done, err := c.openIndexed(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer done()
	checked, added, bad := 0, 0, 0
	err = c.src.each(ctx, live, c.now, func(batch []session.Record) error {
		for _, rec := range batch {
			d := c.decode(rec)
			if d.data == nil {
				bad++
				continue
			}
			checked++
			ok, err := u.idx.Ensure(ctx, rec.Key, d.data)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("indexed %d %s, then failed: %w", added, plural(added, "session", "sessions"), err)
	}
	fmt.Fprintf(c.stdout, "Indexed %d logged-in %s the index lacked (%d live %s checked).\n",
		added, plural(added, "session", "sessions"), checked, plural(checked, "session", "sessions"))
	if bad > 0 {
		fmt.Fprintf(c.stderr, "manage sessions reindex: %s; they were not indexed\n", undecodableNote(bad))
	}
	return nil
}

// userStats is the per-user index's part of `manage sessions stats`.
type userStats struct {
	Entries int64     `json:"entries"`
	Users   int64     `json:"users"`
	Top     []userTop `json:"top"`
}

type userTop struct {
	User     string `json:"user"` // the username, or "#ID" for an id no user has
	ID       string `json:"id"`
	Sessions int64  `json:"sessions"`
}

// topUsers is how many users stats names.
const topUsers = 5

// userStats reports the index: entries, users, and those with the most
// sessions (their entries, dead ones not yet dropped included).
func (c *sessionsCmd) userStats(ctx context.Context) (*userStats, error) {
	u, closeUsers, err := c.openUsers(ctx, false)
	if err != nil {
		return nil, err
	}
	defer closeUsers()
	top, entries, owners, err := u.idx.Top(ctx, topUsers)
	if err != nil {
		return nil, err
	}
	st := &userStats{Entries: entries, Users: owners, Top: []userTop{}}
	for _, t := range top {
		name := "#" + t.Owner
		var user models.User
		if id, perr := strconv.ParseInt(t.Owner, 10, 64); perr == nil {
			if u.db.Gorm.WithContext(ctx).Where("id = ?", id).Take(&user).Error == nil {
				name = user.Username
			}
		}
		st.Top = append(st.Top, userTop{User: name, ID: t.Owner, Sessions: t.Entries})
	}
	return st, nil
}
