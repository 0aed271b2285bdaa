//go:build unix

package e2e

import (
	"os"
	"testing"
)

// TestEscapeKernelKnobs: a server run as root (no user namespace, no
// capabilities) opened /proc/sys/kernel/core_pattern for writing, which
// lets it make the host run a program of its choice as root at the next
// crash. The knobs must be read-only for root and the ordinary user.
func TestEscapeKernelKnobs(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		s := w.Connect(t)
		s.MustBlock(t, "open host kernel knobs for writing", "attack_kernel_knobs", nil)
		// Reading stays possible: programs read sysctls (somaxconn, …).
		if _, err := os.Stat("/proc/sys/net/core/somaxconn"); err == nil {
			if out, status := s.Run(t, "cat", "/proc/sys/net/core/somaxconn"); status != 0 {
				t.Errorf("reading a sysctl inside: status %d: %s", status, out)
			}
		}
	})
}
