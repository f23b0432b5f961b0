//go:build !linux

package redistest

import "syscall"

// procAttr: elsewhere than Linux, a server outlives a test binary that
// dies without stopping it.
func procAttr() *syscall.SysProcAttr { return nil }
