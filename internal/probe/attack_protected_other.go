//go:build linux && !amd64

package probe

import "fmt"

// legacyOp: only amd64 has the pre-*at system calls.
func legacyOp(op, a, b string) error {
	return fmt.Errorf("%s: no legacy system calls on this architecture", op)
}
