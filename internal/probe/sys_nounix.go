//go:build !unix

package probe

import "errors"

// The probe's attacks target Unix sandboxes; on other systems these report
// that they cannot run, so the package builds (go vet for every GOOS).

func mmapAnon(size int) ([]byte, error) {
	return nil, errors.New("mmap: not supported on this system")
}

func signalProcess(pid int, term bool) error {
	return errors.New("signals: not supported on this system")
}
