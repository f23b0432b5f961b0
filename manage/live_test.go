package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app"
)

// liveSite runs the site in-process on a free port with env and returns
// its URL; it stops when the test ends.
func liveSite(t *testing.T, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		opts := app.Options{Ready: func(addr string) { ready <- addr }}
		done <- app.RunWith(ctx, opts, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, &lockedWriter{w: &logs})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("site: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		done <- err
		t.Fatalf("the site stopped before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the site did not listen within 30 s")
	}
	return ""
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var visitedRE = regexp.MustCompile(`You have visited this page (\d+) times\.`)

// visit is one GET /visits with the session cookie key.
type visit struct {
	status int
	count  int64 // the count the page says; -1 when it says none
	after  bool  // the request started after revoke returned
}

func getVisits(ctx context.Context, client *http.Client, url, key string) (visit, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/visits", nil)
	if err != nil {
		return visit{}, err
	}
	req.Header.Set("Cookie", "sessionid="+key)
	resp, err := client.Do(req)
	if err != nil {
		return visit{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return visit{}, err
	}
	v := visit{status: resp.StatusCode, count: -1}
	if m := visitedRE.FindSubmatch(body); m != nil {
		v.count, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	return v, nil
}

// apiData is the session data /api/session shows for key.
func apiData(t *testing.T, client *http.Client, url, key string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/api/session", nil)
	req.Header.Set("Cookie", "sessionid="+key)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Data map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/api/session: status %d, %v", resp.StatusCode, err)
	}
	return doc.Data
}

// TestRevokeUnderLoad: manage sessions revoke, run while a real site
// serves /visits to every session, removes exactly the matching sessions;
// their users are logged out at their next request (a fresh session), and
// no visit of the other users is lost.
func TestRevokeUnderLoad(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		const clients = 30
		var ss []stored
		for i := range clients {
			user := strconv.Itoa(100 + i)
			if i%3 == 0 {
				user = "42"
			}
			ss = append(ss, stored{data: map[string]any{"_auth_user_id": user, "visits": 0}, expiry: time.Hour})
		}
		keys := seedSessions(t, db, ss...)
		revoked := func(i int) bool { return i%3 == 0 }
		url := liveSite(t, sessionsEnv(db))
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 20 * time.Second}
		defer client.CloseIdleConnections()

		var (
			revokeDone atomic.Bool
			stop       = make(chan struct{})
			warm       sync.WaitGroup // each client: 3 visits before revoke
			cool       sync.WaitGroup // each client: 3 visits started after revoke returned
			wg         sync.WaitGroup
			visits     = make([][]visit, clients)
			errs       = make(chan error, clients)
		)
		warm.Add(clients)
		cool.Add(clients)
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				nWarm, nCool := 0, 0
				for {
					select {
					case <-stop:
						return
					default:
					}
					after := revokeDone.Load()
					v, err := getVisits(t.Context(), client, url, keys[i])
					if err != nil {
						errs <- err
						return
					}
					v.after = after
					visits[i] = append(visits[i], v)
					if nWarm++; nWarm == 3 {
						warm.Done()
					}
					if after {
						if nCool++; nCool == 3 {
							cool.Done()
						}
					}
				}
			}()
		}
		warm.Wait()
		r := runEnv(t, sessionsEnv(db), "sessions", "revoke", "--where", "_auth_user_id=42")
		revokeDone.Store(true)
		cool.Wait()
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}

		if r.code != 0 || !strings.HasPrefix(r.stdout, fmt.Sprintf("Revoked %d sessions where _auth_user_id = \"42\".\n", clients/3)) || r.stderr != "" {
			t.Errorf("revoke under load = %+v", r)
		}
		var want []string
		for i := range clients {
			ok := int64(0)
			for _, v := range visits[i] {
				switch {
				case revoked(i) && v.after:
					// Logged out: the old key finds nothing, a fresh
					// session starts at 1.
					if v.status != 200 || v.count != 1 {
						t.Errorf("client %d (revoked) after revoke: status %d, count %d; want 200 and a fresh session's 1", i, v.status, v.count)
					}
				case revoked(i):
					// In flight during the revoke: counted, or refused as
					// interrupted (its session was deleted under it).
					if v.status != 200 && v.status != 400 {
						t.Errorf("client %d (revoked) during revoke: status %d", i, v.status)
					}
				default:
					if v.status != 200 {
						t.Errorf("client %d (kept): status %d", i, v.status)
					}
					ok++
					if v.count != ok {
						t.Errorf("client %d (kept): visit %d says %d", i, ok, v.count)
					}
				}
			}
			data := apiData(t, client, url, keys[i])
			if revoked(i) {
				if len(data) != 0 {
					t.Errorf("client %d (revoked): the old cookie still reads %v", i, data)
				}
				continue
			}
			want = append(want, keys[i])
			if data["visits"] != float64(ok) || data["_auth_user_id"] != strconv.Itoa(100+i) {
				t.Errorf("client %d (kept): stored %v, want visits %d (a lost update?)", i, data, ok)
			}
		}
		// Exactly the matching sessions are gone (the logged-out users'
		// fresh sessions are new rows).
		slices.Sort(want)
		got := storedKeys(t, db)
		for _, k := range keys {
			if slices.Contains(got, k) != slices.Contains(want, k) {
				t.Errorf("session %s… stored: %v, want %v", k[:8], slices.Contains(got, k), slices.Contains(want, k))
			}
		}
	})
}
