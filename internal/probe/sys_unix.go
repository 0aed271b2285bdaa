//go:build unix

package probe

import "syscall"

// mmapAnon maps size bytes of private anonymous memory.
func mmapAnon(size int) ([]byte, error) {
	return syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
}

// signalProcess sends signal 0 (an existence check) or SIGTERM.
func signalProcess(pid int, term bool) error {
	sig := syscall.Signal(0)
	if term {
		sig = syscall.SIGTERM
	}
	return syscall.Kill(pid, sig)
}
