//go:build !linux

package probe

import "errors"

var errNotLinux = errors.New("not supported on this platform")

func openProcMem(int) error                          { return errNotLinux }
func stealFD(int) error                              { return errNotLinux }
func vmRead(int) error                               { return errNotLinux }
func openSocket(int, int, int, bool) (string, error) { return "", errNotLinux }
func keyringAttack() (string, error)                 { return "", errNotLinux }
