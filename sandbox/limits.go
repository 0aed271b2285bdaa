package sandbox

// Default resource ceilings for a sandbox (srtMcp.limits). They exist so a
// fork bomb or a memory bomb in a server costs the server its sandbox, not
// the user their machine; they are set well above what real MCP servers
// use, so nobody has to think about them until a server misbehaves.
const (
	// DefaultProcesses bounds the tasks (processes and threads: the kernel
	// counts both) in the sandbox. A Node server has about 11 threads, an
	// npm install a few dozen tasks, a headless Chromium (the playwright
	// and puppeteer servers) a few hundred across its processes; 1024
	// leaves room for all of them, while a fork bomb stops after ~1000
	// sleeping tasks (a few hundred MiB of kernel and user memory), far
	// below pid_max and threads-max.
	DefaultProcesses = 1024
	// DefaultMemoryMB bounds memory: the whole sandbox's (RAM, tmpfs
	// pages and page cache) when a cgroup holds it, each process's
	// writable private mappings (RLIMIT_DATA) otherwise. MCP servers
	// typically stay below 300 MiB and an npm install below 1 GiB; 2 GiB
	// stops a bomb before it pushes a laptop into swap or the OOM killer.
	DefaultMemoryMB = 2048
	// DefaultTmpMB is the size of the private /tmp. Without a size,
	// bubblewrap's tmpfs may grow to half of RAM, in pages that cannot be
	// reclaimed (no swap) and are charged to the host. Scratch files of
	// real servers (downloads unpacked before they move to a cache, build
	// outputs) fit in 512 MiB.
	DefaultTmpMB = 512
)

// Limits are the ceilings a sandbox gets: settings applied over the
// defaults. 0 means no limit.
type Limits struct {
	Processes int // tasks (processes and threads)
	MemoryMB  int // MiB
	TmpMB     int // MiB of the private /tmp
}

// Effective returns the ceilings these settings ask for: a key that was
// not given takes its default, an explicit 0 means no limit.
func (s LimitSettings) Effective() Limits {
	pick := func(v *int, def int) int {
		if v == nil {
			return def
		}
		return *v
	}
	return Limits{
		Processes: pick(s.Processes, DefaultProcesses),
		MemoryMB:  pick(s.MemoryMB, DefaultMemoryMB),
		TmpMB:     pick(s.TmpMB, DefaultTmpMB),
	}
}

const mib = 1 << 20
