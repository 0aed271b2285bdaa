//go:build !(linux && amd64)

package probe

import "errors"

// injectSocketChain needs amd64 register layouts; the primitive steps
// (attack_ptrace, attack_pidfd_getfd, ...) run everywhere on Linux.
func injectSocketChain(string) (string, error) {
	return "", errors.New("the injection chain is implemented for linux/amd64 only")
}
