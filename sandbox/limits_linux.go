package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// limitSetup is the host side of a sandbox's resource limits: the cgroups
// made for it and how each limit is enforced.
type limitSetup struct {
	enforce limitEnforcement
	cgroups []*cgroupDir
}

// setupLimits prepares the limits for one sandbox. Missing machinery (no
// writable cgroup) is not an error: the fallback applies and the notice
// says what is not enforced. A cgroup that was made but cannot be
// configured is an error, and the server does not start.
func setupLimits(l Limits, bwrap string) (*limitSetup, error) {
	h := limitHost{Root: os.Geteuid() == 0, OwnUserNS: ownUserNS(bwrap)}
	s := &limitSetup{}
	var pids, mem *cgroupDir
	if l.Processes > 0 {
		if cg, err := newCgroupV1("pids"); err == nil {
			pids, h.PidsCgroup = cg, true
			s.cgroups = append(s.cgroups, cg)
		}
	}
	if l.MemoryMB > 0 {
		if cg, err := newCgroupV1("memory"); err == nil {
			mem, h.MemoryCgroup = cg, true
			s.cgroups = append(s.cgroups, cg)
		}
	}
	s.enforce = decideLimits(l, h)
	var err error
	if pids != nil {
		err = pids.set("pids.max", strconv.Itoa(s.enforce.PidsMax))
	}
	if mem != nil && err == nil {
		v := strconv.FormatInt(s.enforce.MemoryMax, 10)
		err = mem.set("memory.limit_in_bytes", v)
		// With swap accounting, memory+swap gets the same ceiling, so the
		// limit cannot be dodged by pushing pages out to swap.
		if err == nil && mem.has("memory.memsw.limit_in_bytes") {
			err = mem.set("memory.memsw.limit_in_bytes", v)
		}
	}
	if err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// noteHostTmp records that the /tmp size does not apply when a writable
// mount puts the host's /tmp (or the whole disk) in place of the private
// one.
func (s *limitSetup) noteHostTmp(mounts []Mount) {
	if s.enforce.TmpBytes == 0 {
		return
	}
	for _, m := range mounts {
		if m.Access == ReadWrite && under("/tmp", m.Path) {
			s.enforce.Unenforced = append(s.enforce.Unenforced, "/tmp is the host's (filesystem.allowWrite covers "+m.Path+"), so tmpMB does not apply")
			return
		}
	}
}

// helperArgs are the __exec options for the limits. addFile passes a file
// into the sandbox and returns its descriptor number there.
func (s *limitSetup) helperArgs(addFile func(*os.File) int) []string {
	a := s.enforce.helperFlags()
	for _, cg := range s.cgroups {
		a = append(a, "--cgroup", strconv.Itoa(addFile(cg.procs)))
	}
	return a
}

// closeFiles closes srt-mcp's copies of the cgroup.procs files once bwrap
// has them.
func (s *limitSetup) closeFiles() {
	for _, cg := range s.cgroups {
		if cg.procs != nil {
			cg.procs.Close()
			cg.procs = nil
		}
	}
}

// release removes the sandbox's cgroups; call it once the sandbox is gone.
func (s *limitSetup) release() {
	if s == nil {
		return
	}
	for _, cg := range s.cgroups {
		cg.remove()
	}
	s.cgroups = nil
}

// ownUserNS reports whether RLIMIT_NPROC set inside the sandbox counts
// the sandbox's tasks alone: bubblewrap gives it a user namespace when it
// runs unprivileged (not as root, not setuid), and since Linux 5.14 the
// kernel counts RLIMIT_NPROC per user namespace (ucounts).
func ownUserNS(bwrap string) bool {
	if os.Geteuid() == 0 {
		return false
	}
	if st, err := os.Stat(bwrap); err != nil || st.Mode()&os.ModeSetuid != 0 {
		return false
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 14)
}

func kernelAtLeast(release string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(release, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

// helperLimits is what the helper inside the sandbox applies to itself
// before it execs the server: everything the server starts inherits it.
type helperLimits struct {
	cgroupFDs []int
	nproc     int
	data      int64
}

// flag takes one limit option of __exec and its value.
func (h *helperLimits) flag(name, value string) error {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s: bad value %q", name, value)
	}
	switch name {
	case "--cgroup":
		h.cgroupFDs = append(h.cgroupFDs, int(n))
	case "--nproc":
		h.nproc = int(n)
	case "--data":
		h.data = n
	default:
		return fmt.Errorf("unknown option %q", name)
	}
	return nil
}

// apply joins the cgroups and sets the rlimits, soft and hard: without
// CAP_SYS_RESOURCE (dropped for root too) the server cannot raise a hard
// limit again, and it cannot leave the cgroup (the cgroup filesystem is
// read-only inside). Writing "0" to cgroup.procs moves the calling
// process; nothing of the server runs yet, so nothing can be forked
// before the move. Any failure stops the launch.
func (h *helperLimits) apply() error {
	for _, fd := range h.cgroupFDs {
		if inCgroup(fd) {
			unix.Close(fd) // srt-mcp moved us in already (adopt)
			continue
		}
		_, err := unix.Write(fd, []byte("0"))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("joining the sandbox's cgroup: %w", err)
		}
	}
	set := func(name string, res int, v uint64) error {
		var cur unix.Rlimit
		if err := unix.Getrlimit(res, &cur); err != nil {
			return fmt.Errorf("getrlimit(%s): %w", name, err)
		}
		// Never raise: a lower limit from the user's own shell stays.
		lim := unix.Rlimit{Cur: min(v, cur.Max), Max: min(v, cur.Max)}
		if err := unix.Setrlimit(res, &lim); err != nil {
			return fmt.Errorf("setrlimit(%s): %w", name, err)
		}
		return nil
	}
	if h.nproc > 0 {
		if err := set("RLIMIT_NPROC", unix.RLIMIT_NPROC, uint64(h.nproc)); err != nil {
			return err
		}
	}
	if h.data > 0 {
		if err := set("RLIMIT_DATA", unix.RLIMIT_DATA, uint64(h.data)); err != nil {
			return err
		}
	}
	return nil
}

// inCgroup reports whether the calling process is already a member of the
// cgroup whose cgroup.procs is open on fd: the file, reopened for reading,
// lists the members as this PID namespace sees them. Any doubt answers
// false, and the caller joins itself.
func inCgroup(fd int) bool {
	b, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return false
	}
	self := strconv.Itoa(os.Getpid())
	for _, line := range strings.Split(string(b), "\n") {
		if line == self {
			return true
		}
	}
	return false
}

// adopt moves the sandbox's first process into the cgroups from the host,
// as soon as bwrap has reported its PID, while bwrap is still building the
// sandbox. A cgroup v1 move waits for an RCU grace period (about 10 ms
// here); done by the helper it was on the start-up path. The helper still
// checks its membership before it starts the server and joins itself if
// this has not happened yet, so the move here only saves time: it can
// never leave a server outside its cgroup.
func (s *limitSetup) adopt(pid int) {
	if s == nil || pid <= 0 {
		return
	}
	for _, cg := range s.cgroups {
		_ = os.WriteFile(filepath.Join(cg.path, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
	}
}
