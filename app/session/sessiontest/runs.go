package sessiontest

import (
	"encoding/json"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// seeds returns the seeds ModelCheck and IndexCheck run: the one of
// MODELCHECK_SEED (a replay), random ones for MODELCHECK_TIME, or by
// default the fixed seed of make test's short run.
func seeds(t *testing.T) iter.Seq[uint64] {
	t.Helper()
	switch {
	case os.Getenv(EnvSeed) != "":
		seed, err := strconv.ParseUint(os.Getenv(EnvSeed), 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", EnvSeed, os.Getenv(EnvSeed), err)
		}
		return func(yield func(uint64) bool) { yield(seed) }
	case os.Getenv(EnvTime) != "":
		d, err := time.ParseDuration(os.Getenv(EnvTime))
		if err != nil {
			t.Fatalf("%s=%q: %v", EnvTime, os.Getenv(EnvTime), err)
		}
		end := time.Now().Add(d)
		return func(yield func(uint64) bool) {
			for time.Now().Before(end) && yield(rand.Uint64()) {
			}
		}
	}
	return func(yield func(uint64) bool) { yield(modelFixed) }
}

// startChild starts cmd, a child OS process of a run (check names the
// check, "model check"), which leaves its results as a JSON list in the
// file path (see leaveResults). The function it returns waits for the
// child and returns those results; it fails the test when the child
// failed or left none.
func startChild[T any](t *testing.T, check string, seed uint64, cmd *exec.Cmd, path string) func() []T {
	t.Helper()
	var out []byte
	done := make(chan error, 1)
	go func() {
		var err error
		out, err = cmd.CombinedOutput()
		done <- err
	}()
	return func() []T {
		t.Helper()
		if err := <-done; err != nil {
			t.Fatalf("%s child (seed %d): %v\n%s", check, seed, err, out)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s child (seed %d) left no %s: %v\n%s", check, seed, filepath.Base(path), err, out)
		}
		var theirs []T
		if err := json.Unmarshal(b, &theirs); err != nil {
			t.Fatal(err)
		}
		return theirs
	}
}

// leaveResults is the child's side of startChild: it writes results to
// the file path as JSON.
func leaveResults[T any](t *testing.T, path string, results []T) {
	t.Helper()
	b, err := json.Marshal(results)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
