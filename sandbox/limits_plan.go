package sandbox

import (
	"fmt"
	"strconv"
	"strings"
)

// limitHost is what the machine offers to enforce the limits with.
type limitHost struct {
	// Root: the sandbox runs as uid 0. The kernel never enforces
	// RLIMIT_NPROC for the initial root user (copy_process exempts
	// INIT_USER), so only a cgroup can bound root's processes.
	Root bool
	// OwnUserNS: the sandbox gets its own user namespace (unprivileged
	// bubblewrap) on a kernel (5.14+) that counts RLIMIT_NPROC per user
	// namespace. Only then does RLIMIT_NPROC count the sandbox's tasks
	// alone; otherwise it would count every process the user runs on the
	// host and break the server of a user with a busy desktop.
	OwnUserNS bool
	// PidsCgroup and MemoryCgroup: a cgroup (v1) directory of that
	// controller was made for the sandbox.
	PidsCgroup, MemoryCgroup bool
}

// limitEnforcement is how each limit is applied; zero fields are not
// applied.
type limitEnforcement struct {
	PidsMax   int   // pids.max of the sandbox's cgroup
	MemoryMax int64 // memory.limit_in_bytes (and memory.memsw) of the sandbox's cgroup
	NProc     int   // RLIMIT_NPROC of the server
	Data      int64 // RLIMIT_DATA of the server, bytes
	TmpBytes  int64 // size of the private /tmp
	// Unenforced says what the machine cannot enforce, for the one-line
	// notice on stderr.
	Unenforced []string
}

// decideLimits chooses, for each limit, the strongest mechanism the host
// offers. A cgroup bounds the sandbox as a whole, and nothing inside can
// leave it (the cgroup filesystem is read-only inside, and the server has
// no capabilities); rlimits are the fallback: RLIMIT_NPROC still bounds
// the sandbox as a whole in its own user namespace, but RLIMIT_DATA only
// bounds each process.
func decideLimits(l Limits, h limitHost) limitEnforcement {
	var e limitEnforcement
	if l.Processes > 0 {
		switch {
		case h.PidsCgroup:
			e.PidsMax = l.Processes
		case h.Root:
			e.Unenforced = append(e.Unenforced, "processes are not limited (running as root, where RLIMIT_NPROC does not apply, and no writable cgroup pids controller)")
		case h.OwnUserNS:
			e.NProc = l.Processes
		default:
			e.Unenforced = append(e.Unenforced, "processes are not limited (the sandbox has no user namespace of its own, so RLIMIT_NPROC would count all of the user's processes)")
		}
	}
	if l.MemoryMB > 0 {
		if h.MemoryCgroup {
			e.MemoryMax = int64(l.MemoryMB) * mib
		} else {
			// RLIMIT_DATA, not RLIMIT_AS: V8 and Go reserve large address
			// ranges they never touch (node with one WebAssembly memory maps
			// over 10 GiB), so an address-space limit breaks them, while
			// RLIMIT_DATA counts only writable private mappings (heap,
			// stacks, anonymous memory) and PROT_NONE reservations are free.
			// RLIMIT_RSS is not enforced by Linux at all.
			e.Data = int64(l.MemoryMB) * mib
			e.Unenforced = append(e.Unenforced, fmt.Sprintf("no writable cgroup memory controller, so memory is limited per process (%d MiB each, RLIMIT_DATA), not for the sandbox as a whole", l.MemoryMB))
		}
	}
	if l.TmpMB > 0 {
		e.TmpBytes = int64(l.TmpMB) * mib
	}
	return e
}

// notice is the one stderr line about limits that could not be enforced,
// or "".
func (e limitEnforcement) notice() string {
	if len(e.Unenforced) == 0 {
		return ""
	}
	return "resource limits (srtMcp.limits): " + strings.Join(e.Unenforced, "; ")
}

// helperFlags are the __exec options that make the helper apply the
// rlimits to itself before it execs the server (rlimits are inherited
// across fork and exec).
func (e limitEnforcement) helperFlags() []string {
	var a []string
	if e.NProc > 0 {
		a = append(a, "--nproc", strconv.Itoa(e.NProc))
	}
	if e.Data > 0 {
		a = append(a, "--data", strconv.FormatInt(e.Data, 10))
	}
	return a
}

// tmpfsArgs are the bubblewrap arguments for the private /tmp. --size
// applies to the next --tmpfs only (bubblewrap 0.8+).
func tmpfsArgs(tmpBytes int64) []string { return tmpfsAt("/tmp", tmpBytes) }

// tmpfsAt is a private tmpfs at dir of at most size bytes (0: bwrap's
// default, half of RAM).
func tmpfsAt(dir string, size int64) []string {
	if size > 0 {
		return []string{"--size", strconv.FormatInt(size, 10), "--tmpfs", dir}
	}
	return []string{"--tmpfs", dir}
}
