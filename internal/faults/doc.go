// Package faults is the fault suite of the demo site: tests that run the
// built site binary as a separate process, as an operator does, and put it
// through what breaks sites in production: oversized and slow request
// bodies, SIGTERM with requests in flight, a session store that fails.
// Each test checks what the process does: its memory, its exit status and
// timing, its answers and its log, and what it stored.
//
// The package holds tests only; TestMain builds the binary once per run.
package faults
