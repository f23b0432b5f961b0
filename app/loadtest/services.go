package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// siteServices returns the settings that give the site its database and
// its cache for this run: a fresh database on -postgres's server (dropped
// when stop is called), and a private redis-server when the engine wants
// Redis and the environment names none (CACHE_URL). stop releases them.
func (b *bench) siteServices(ctx context.Context, name string) (env []string, stop func() error, err error) {
	var stops []func() error
	stop = func() error {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		return nil
	}
	if b.o.postgres != "" {
		u, drop, err := freshPostgres(ctx, b.o.postgres, name)
		if err != nil {
			return nil, nil, err
		}
		stops = append(stops, drop)
		env = append(env, "DATABASE_URL="+u)
	}
	if b.needs().Redis && b.getenv("CACHE_URL") == "" {
		u, kill, err := startRedis(ctx, filepath.Join(b.dir, name+"-redis"))
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("SESSION_ENGINE=%s wants Redis: set CACHE_URL, or install redis-server (make deps): %w", b.engine, err)
		}
		stops = append(stops, kill)
		env = append(env, "CACHE_URL="+u)
		b.logf("redis-server at %s", u)
	}
	return env, stop, nil
}

// freshPostgres creates a database of its own on the PostgreSQL server at
// server and returns its URL, and what drops it.
func freshPostgres(ctx context.Context, server, name string) (string, func() error, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	dbName := "gosessions_bench_" + name + "_" + hex.EncodeToString(b)
	admin := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return fmt.Errorf("-postgres: %w", err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin(`CREATE DATABASE "` + dbName + `"`); err != nil {
		return "", nil, fmt.Errorf("-postgres: create a database for the run: %w", err)
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, fmt.Errorf("-postgres: %w", err)
	}
	u.Path = "/" + dbName
	return u.String(), func() error { return admin(`DROP DATABASE IF EXISTS "` + dbName + `" WITH (FORCE)`) }, nil
}

// startRedis runs Debian's redis-server on a free loopback port, in dir,
// without persistence, and returns its URL and what kills it.
func startRedis(ctx context.Context, dir string) (string, func() error, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	kill := func() error { cmd.Process.Kill(); return cmd.Wait() }
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "redis://" + addr + "/0", kill, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			kill()
			return "", nil, fmt.Errorf("redis-server did not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
