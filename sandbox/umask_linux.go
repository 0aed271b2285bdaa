package sandbox

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// umaskCache remembers the umask of the sandbox's threads, so the broker
// does not read /proc/TID/status (tens of microseconds) for every file it
// creates.
//
// Correctness: an entry belongs to one thread, and a pidfd of that thread
// (PIDFD_THREAD, Linux 6.9) tells when it has exited, so a reused TID never
// inherits an old entry. The umask only changes through umask(2), which the
// filter always notifies: the supervisor sets the new value for every
// thread of the caller's process before letting the call go on. A create in
// another thread that the broker performs between that answer and the
// kernel's own update sees the new value, a valid order for two calls that
// race anyway. Not followed: two processes sharing one fs_struct
// (clone(CLONE_FS) without CLONE_THREAD), which no common runtime does.
// Without PIDFD_THREAD nothing is cached.
type umaskCache struct {
	byTID map[int]umaskEntry
}

type umaskEntry struct {
	tgid  int
	umask uint32
	pidfd int
}

const maxUmaskEntries = 512

// get returns the umask of thread tid, reading it from c when not cached.
func (u *umaskCache) get(c *caller) uint32 {
	if e, ok := u.byTID[c.tid]; ok {
		if !exited(e.pidfd) {
			return e.umask
		}
		unix.Close(e.pidfd)
		delete(u.byTID, c.tid)
	}
	c.readStatus()
	if c.statusReadFail || c.tgid == 0 {
		return c.umask
	}
	pidfd, err := unix.PidfdOpen(c.tid, unix.O_EXCL) // PIDFD_THREAD
	if err != nil {
		return c.umask
	}
	if u.byTID == nil {
		u.byTID = map[int]umaskEntry{}
	}
	if len(u.byTID) >= maxUmaskEntries {
		u.sweep()
	}
	u.byTID[c.tid] = umaskEntry{tgid: c.tgid, umask: c.umask, pidfd: pidfd}
	return c.umask
}

// set records umask(2) by thread tid: every cached thread of its process
// gets the new value.
func (u *umaskCache) set(tid int, mask uint32) {
	tgid := 0
	if e, ok := u.byTID[tid]; ok {
		tgid = e.tgid
	} else {
		tgid = statusTgid(tid)
	}
	for t, e := range u.byTID {
		if e.tgid == tgid {
			e.umask = mask & 0o777
			u.byTID[t] = e
		}
	}
}

// sweep drops the entries of exited threads, or all of them if none has
// exited.
func (u *umaskCache) sweep() {
	for t, e := range u.byTID {
		if exited(e.pidfd) {
			unix.Close(e.pidfd)
			delete(u.byTID, t)
		}
	}
	if len(u.byTID) >= maxUmaskEntries {
		for t, e := range u.byTID {
			unix.Close(e.pidfd)
			delete(u.byTID, t)
		}
	}
}

// exited: a pidfd becomes readable when its thread has exited.
func exited(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err != nil || n > 0
}

func statusTgid(tid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Tgid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
