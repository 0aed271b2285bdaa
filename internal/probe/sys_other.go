//go:build !linux

package probe

import "errors"

func ptraceAttach(pid int) error { return errors.New("not supported on this platform") }
func ttyInject() error           { return errors.New("not supported on this platform") }
