package sessiontest

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/djangosessions/gosessions/app/session"
)

// childDone is what IncrementAsChild prints when its increments are saved.
const childDone = "sessiontest: child done"

// IncrementInTwoProcesses adds n to the "n" of session key from this
// process, through m, while child (the test binary re-executed to run a
// test that calls [IncrementAsChild] with the same n) adds n from another
// OS process on the same store. Every one of the 2n increments must be
// there at the end.
func IncrementInTwoProcesses(t *testing.T, m *session.Manager, key string, n int, child *exec.Cmd) {
	t.Helper()
	var out []byte
	done := make(chan error, 1)
	go func() {
		var err error
		out, err = child.CombinedOutput()
		done <- err
	}()
	incrementConcurrently(t, m, key, n)
	if err := <-done; err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), childDone) {
		t.Fatalf("the child did not run its increments:\n%s", out)
	}
	if got := m.Open(t.Context(), key).GetInt("n", -1); got != 2*n {
		t.Fatalf("n = %d after %d increments in two processes: %d lost", got, 2*n, 2*n-got)
	}
}

// IncrementAsChild is the child's side of [IncrementInTwoProcesses]: it
// adds n to the "n" of session key through m, then says it is done.
func IncrementAsChild(t *testing.T, m *session.Manager, key string, n int) {
	t.Helper()
	incrementConcurrently(t, m, key, n)
	fmt.Println(childDone)
}

// incrementConcurrently saves n concurrent increments of key's "n".
func incrementConcurrently(t *testing.T, m *session.Manager, key string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			sess := m.Open(t.Context(), key)
			sess.Incr("n", 1)
			if err := sess.Save(); err != nil {
				t.Errorf("Save of an increment: %v", err)
			}
		})
	}
	wg.Wait()
}
