//go:build !linux

package djangotest

import "syscall"

// procAttr: elsewhere than Linux, a process outlives a test binary that
// dies without stopping it.
func procAttr() *syscall.SysProcAttr { return nil }
