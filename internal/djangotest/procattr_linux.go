package djangotest

import "syscall"

// procAttr makes the kernel kill the process when the test binary dies
// without stopping it (a panic, a -timeout), so that no process outlives
// its test run.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
