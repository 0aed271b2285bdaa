package sandbox

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The broker performs the sandbox's creating and modifying calls itself.
//
// Why not check and CONTINUE: a path argument lives in the server's
// memory, and another of its threads can rewrite it between the
// supervisor's read and the kernel's (the seccomp documentation warns of
// exactly this). So the broker copies the arguments once, resolves the path
// itself in the sandbox's view (sandboxpath_linux.go), checks the result
// against the protection rules, performs the call on the directory
// descriptor it resolved, and answers with the call's result; an opened
// file goes back into the server with SECCOMP_IOCTL_NOTIF_ADDFD. The kernel
// never looks at the server's arguments again.
//
// Same rights as the server: the broker runs as the server's user, on a
// thread with no capabilities (root's sandbox has none either) and umask 0,
// applying the caller's umask itself; and it acts below /proc/TID/root, in
// the sandbox's mount namespace, so read-only binds still answer EROFS and
// the private /tmp is the sandbox's. Refusals answer EROFS, what the
// read-only bind of an existing protected file answers too.

type broker struct {
	prot     *Protection
	listener int
	checked  string // the last path checked, named in a refusal's report
	umasks   umaskCache
}

// brokerThread prepares the calling (locked) thread: its own umask, so the
// broker can create files with exactly the caller's mode bits, and no
// capabilities, so that root's broker cannot do what root's sandbox
// (which has none) cannot.
func brokerThread() error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return err
	}
	unix.Umask(0)
	if os.Geteuid() != 0 {
		return nil
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	return unix.Capset(&hdr, &data[0])
}

// reply is a brokered call's answer.
type reply struct {
	val       int64
	errno     unix.Errno
	fd        int // >= 0: install this descriptor in the caller and return its number
	fdCloexec bool
	deferred  bool // answered later, by another thread (a FIFO's open)
}

func fail(e unix.Errno) reply { return reply{errno: e, fd: -1} }

var okReply = reply{fd: -1}

// handle performs one brokered call and answers it.
func (b *broker) handle(n *seccompNotif, t notifyTarget) (Attempt, bool) {
	a := Attempt{Time: time.Now(), Pid: int(n.Pid), Call: t.name, Write: true}
	r := b.perform(n, t, &a)
	if r.deferred {
		return a, len(a.Paths) > 0
	}
	if r.fd >= 0 {
		defer unix.Close(r.fd)
		req := seccompNotifAddfd{ID: n.ID, Flags: unix.SECCOMP_ADDFD_FLAG_SEND, Srcfd: uint32(r.fd)}
		if r.fdCloexec {
			req.NewfdFlags = unix.O_CLOEXEC
		}
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(b.listener), unix.SECCOMP_IOCTL_NOTIF_ADDFD, uintptr(unsafe.Pointer(&req)))
		if errno == 0 || errno == unix.ENOENT {
			return a, len(a.Paths) > 0 || a.Refused != ""
		}
		r = fail(errno) // EMFILE in the caller, for example
	}
	resp := seccompNotifResp{ID: n.ID, Val: r.val, Error: -int32(r.errno)}
	unix.Syscall(unix.SYS_IOCTL, uintptr(b.listener), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	return a, len(a.Paths) > 0 || a.Refused != ""
}

func (b *broker) perform(n *seccompNotif, t notifyTarget, a *Attempt) reply {
	tid := int(n.Pid)
	arg := func(i int) uint64 { return n.Data.Args[i] }
	str := func(i int) (string, unix.Errno) {
		s, err := readString(tid, uintptr(arg(i)))
		if err != nil {
			return "", unix.EFAULT
		}
		return s, 0
	}
	dirfd := func(i int) int {
		if i < 0 {
			return unix.AT_FDCWD
		}
		return int(int32(arg(i)))
	}
	flags := t.fixed
	if t.bFlags >= 0 {
		flags |= int(int32(arg(t.bFlags)))
	}
	// Copy every argument out of the caller's memory first, and make sure
	// the notification still belongs to the same live thread.
	var paths []string
	for _, p := range t.paths {
		s, e := str(p[1])
		if e != 0 {
			return fail(e)
		}
		paths = append(paths, s)
	}
	var linkTarget string
	if t.broker == bSymlink {
		s, e := str(t.bExtra)
		if e != 0 {
			return fail(e)
		}
		linkTarget = s
	}
	c, e := newCaller(tid)
	if e != 0 {
		return fail(e)
	}
	c.hostProc = b.prot.HostProc
	defer c.close()
	if !valid(b.listener, n.ID) {
		return fail(unix.ESRCH)
	}
	at := func(i int, follow bool) (loc, unix.Errno) {
		p, e := c.base(dirfd(t.paths[i][0]), paths[i])
		if e != 0 {
			return loc{}, e
		}
		l, e := c.resolve(p, follow)
		if e == 0 {
			a.Paths = append(a.Paths, l.path())
		}
		return l, e
	}
	refuse := func(rule string) reply {
		a.Refused, a.RefusedPath = rule, b.checked
		return fail(unix.EROFS)
	}
	mode := func() uint32 {
		if t.bMode < 0 {
			return 0
		}
		return uint32(arg(t.bMode))
	}

	switch t.broker {
	case bOpen:
		follow := flags&unix.O_NOFOLLOW == 0 && flags&(unix.O_CREAT|unix.O_EXCL) != unix.O_CREAT|unix.O_EXCL
		l, e := at(0, follow)
		if e != 0 {
			return fail(e)
		}
		defer l.close()
		return b.open(c, &l, flags, mode(), refuse, n.ID)
	case bMkdir, bMknod:
		l, e := at(0, false)
		if e != 0 {
			return fail(e)
		}
		defer l.close()
		if rule := b.rule(&l); rule != "" {
			return refuse(rule)
		}
		perm := mode() & 0o7777 &^ b.umasks.get(c)
		var err error
		if t.broker == bMkdir {
			err = unix.Mkdirat(l.dir, l.name, perm)
		} else {
			err = unix.Mknodat(l.dir, l.name, mode()&unix.S_IFMT|perm, int(arg(t.bExtra)))
		}
		return result(err)
	case bUnlink:
		l, e := at(0, false)
		if e != 0 {
			return fail(e)
		}
		defer l.close()
		if rule := b.moveRule(&l); rule != "" {
			return refuse(rule)
		}
		return result(unix.Unlinkat(l.dir, l.name, flags))
	case bSymlink:
		l, e := at(0, false)
		if e != 0 {
			return fail(e)
		}
		defer l.close()
		if rule := b.moveRule(&l); rule != "" {
			return refuse(rule)
		}
		return result(unix.Symlinkat(linkTarget, l.dir, l.name))
	case bRename:
		from, e := at(0, false)
		if e != 0 {
			return fail(e)
		}
		defer from.close()
		to, e := at(1, false)
		if e != 0 {
			return fail(e)
		}
		defer to.close()
		// The source leaves its name and the destination's name gets new
		// content (both, for RENAME_EXCHANGE).
		for _, l := range []*loc{&from, &to} {
			if rule := b.moveRule(l); rule != "" {
				return refuse(rule)
			}
		}
		return result(unix.Renameat2(from.dir, from.name, to.dir, to.name, uint(flags)))
	case bLink:
		var src int = -1
		var srcLoc loc
		if flags&unix.AT_EMPTY_PATH != 0 && paths[0] == "" {
			obj, e := c.fdObject(dirfd(t.paths[0][0]))
			if e != 0 {
				return fail(e)
			}
			src = obj
		} else {
			l, e := at(0, flags&unix.AT_SYMLINK_FOLLOW != 0)
			if e != 0 {
				return fail(e)
			}
			defer l.close()
			srcLoc = l
			if l.magic {
				obj, err := unix.Openat(l.dir, l.name, unix.O_PATH|unix.O_CLOEXEC, 0)
				if err != nil {
					return result(err)
				}
				src = obj
			}
		}
		if src >= 0 {
			defer unix.Close(src)
			p, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(src))
			if rule := b.protRule(p); rule != "" {
				return refuse(rule)
			}
		} else if rule := b.rule(&srcLoc); rule != "" {
			// A second name for a protected file would be a way to write it.
			return refuse(rule)
		}
		to, e := at(1, false)
		if e != 0 {
			return fail(e)
		}
		defer to.close()
		if rule := b.moveRule(&to); rule != "" {
			return refuse(rule)
		}
		if src >= 0 {
			return result(unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(src), to.dir, to.name, unix.AT_SYMLINK_FOLLOW))
		}
		return result(unix.Linkat(srcLoc.dir, srcLoc.name, to.dir, to.name, 0))
	case bChmod, bFchmod:
		var obj int = -1
		var l loc
		switch {
		case t.broker == bFchmod:
			o, e := c.fdObject(int(int32(arg(0))))
			if e != 0 {
				return fail(e)
			}
			obj = o
		case flags&unix.AT_EMPTY_PATH != 0 && paths[0] == "":
			o, e := c.fdObject(dirfd(t.paths[0][0]))
			if e != 0 {
				return fail(e)
			}
			obj = o
		default:
			var e unix.Errno
			l, e = at(0, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
			if e != 0 {
				return fail(e)
			}
			defer l.close()
			if l.magic {
				o, err := unix.Openat(l.dir, l.name, unix.O_PATH|unix.O_CLOEXEC, 0)
				if err != nil {
					return result(err)
				}
				obj = o
			}
		}
		if obj >= 0 {
			defer unix.Close(obj)
			p, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(obj))
			a.Paths = append(a.Paths, p)
			if rule := b.protRule(p); rule != "" {
				return refuse(rule)
			}
			return result(unix.Fchmodat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(obj), mode(), 0))
		}
		if rule := b.rule(&l); rule != "" {
			return refuse(rule)
		}
		if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
			_, _, errno := unix.Syscall6(unix.SYS_FCHMODAT2, uintptr(l.dir), uintptr(unsafe.Pointer(bytePtr(l.name))), uintptr(mode()), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
			return fail(errno)
		}
		return result(unix.Fchmodat(l.dir, l.name, mode(), 0))
	case bTruncate:
		l, e := at(0, true)
		if e != 0 {
			return fail(e)
		}
		defer l.close()
		if rule := b.rule(&l); rule != "" {
			return refuse(rule)
		}
		fd, err := unix.Openat(l.dir, l.name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return result(err)
		}
		defer unix.Close(fd)
		return result(unix.Ftruncate(fd, int64(arg(t.bExtra))))
	}
	return fail(unix.ENOSYS)
}

// open performs a creating or writing open.
func (b *broker) open(c *caller, l *loc, flags int, mode uint32, refuse func(string) reply, id uint64) reply {
	cloexec := flags&unix.O_CLOEXEC != 0
	if l.magic {
		// One of the caller's descriptors reopened through /proc: it names
		// no path to create, so open it as it is and check what it is.
		fd, err := unix.Openat(l.dir, l.name, flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_TRUNC|unix.O_NOFOLLOW)|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return result(err)
		}
		p, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		if rule := b.protRule(p); rule != "" {
			unix.Close(fd)
			return refuse(rule)
		}
		if flags&unix.O_TRUNC != 0 {
			var st unix.Stat_t
			if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
				if err := unix.Ftruncate(fd, 0); err != nil {
					unix.Close(fd)
					return result(err)
				}
			}
		}
		return reply{fd: fd, fdCloexec: cloexec}
	}
	if rule := b.rule(l); rule != "" {
		return refuse(rule)
	}
	umask := b.umasks.get(c)
	// O_NOFOLLOW: the walk already followed what the caller asked to
	// follow; O_NOCTTY: the broker's own terminal must never become one;
	// O_NONBLOCK: opening a FIFO for writing must not stall the broker
	// until a reader comes (cleared again below).
	fd, err := unix.Openat(l.dir, l.name, flags|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, mode&0o7777&^umask)
	if err == unix.ENXIO && flags&unix.O_NONBLOCK == 0 {
		// A FIFO without a reader: wait for one on another thread, on a
		// descriptor of this very FIFO (no name is looked up again).
		obj, err := unix.Openat(l.dir, l.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return result(err)
		}
		var st unix.Stat_t
		if unix.Fstat(obj, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			unix.Close(obj)
			return fail(unix.ENXIO)
		}
		listener, err := unix.FcntlInt(uintptr(b.listener), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			unix.Close(obj)
			return result(err)
		}
		go openFIFO(listener, id, obj, flags, cloexec)
		return reply{deferred: true}
	}
	if err != nil {
		return result(err)
	}
	if flags&unix.O_NONBLOCK == 0 {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^unix.O_NONBLOCK&(unix.O_APPEND|unix.O_DIRECT|unix.O_NOATIME|unix.O_ASYNC)); err != nil {
			unix.Close(fd)
			return result(err)
		}
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(5, 0) {
		// /dev/tty means the opener's controlling terminal: the sandbox
		// has none (new session), the broker might.
		unix.Close(fd)
		return fail(unix.ENXIO)
	}
	return reply{fd: fd, fdCloexec: cloexec}
}

// openFIFO opens a FIFO for writing, blocking until a reader comes, and
// answers the notification. It runs on its own thread, prepared like the
// broker's, which ends with it.
func openFIFO(listener int, id uint64, obj, flags int, cloexec bool) {
	runtime.LockOSThread() // never unlocked: brokerThread changes the thread
	defer unix.Close(listener)
	defer unix.Close(obj)
	resp := seccompNotifResp{ID: id, Error: -int32(unix.EPERM)}
	if brokerThread() == nil {
		fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(obj), flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_TRUNC|unix.O_NOFOLLOW)|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err == nil {
			defer unix.Close(fd)
			req := seccompNotifAddfd{ID: id, Flags: unix.SECCOMP_ADDFD_FLAG_SEND, Srcfd: uint32(fd)}
			if cloexec {
				req.NewfdFlags = unix.O_CLOEXEC
			}
			_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_ADDFD, uintptr(unsafe.Pointer(&req)))
			if errno == 0 || errno == unix.ENOENT {
				return
			}
			resp.Error = -int32(errno)
		} else {
			resp.Error = -int32(errnoOf(err))
		}
	}
	unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
}

// protRule checks the path of an object the broker holds.
func (b *broker) protRule(p string) string {
	b.checked = p
	if p == "" {
		// The object's name could not be read: refuse rather than act on
		// something unchecked.
		return "the object's path could not be read"
	}
	if !filepath.IsAbs(p) {
		return "" // a pipe or a socket
	}
	return b.prot.Rule(p)
}

// fdObject opens the object behind the caller's descriptor n (O_PATH): the
// broker acts on this copy, so a descriptor swapped by another thread
// afterwards changes nothing.
func (c *caller) fdObject(n int) (int, unix.Errno) {
	fd, err := unix.Openat(c.proc, "fd/"+strconv.Itoa(n), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, unix.EBADF
	}
	return fd, 0
}

// rule says why the entry at l may not be created, written or chmod'ed.
func (b *broker) rule(l *loc) string {
	b.checked = l.path()
	if b.prot.private(l.path()) {
		return ""
	}
	if r := b.prot.Rule(l.path()); r != "" {
		return r
	}
	return gitDirRule(l)
}

// moveRule says why the entry at l may not be removed, renamed, replaced
// or created as a link.
func (b *broker) moveRule(l *loc) string {
	b.checked = l.path()
	if b.prot.private(l.path()) {
		return ""
	}
	if r := b.prot.MoveRule(l.path()); r != "" {
		return r
	}
	return gitDirRule(l)
}

// gitDirRule protects the git directories that are not named .git: a
// directory holding HEAD is one to git (a bare repository,
// .git/worktrees/X, .git/modules/X, or one built to be discovered when the
// user runs git inside it), so its config, hooks and commondir are
// protected, and HEAD may not be added next to them. Needs the
// filesystem, so it lives here and not in the pure Protection.
func gitDirRule(l *loc) string {
	if l.name == "." {
		return ""
	}
	has := func(name string) bool {
		var st unix.Stat_t
		return unix.Fstatat(l.dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	}
	base := filepath.Base(l.dirPath)
	switch {
	case slices.Contains(gitDirEntries, l.name) && has("HEAD"):
		return "git directory (holds HEAD): " + l.path()
	case l.name == "HEAD" && !slices.Contains(strings.Split(l.dirPath, "/"), ".git"):
		// Outside a .git directory a HEAD makes a bare repository that
		// the user's git discovers. Refused by name, not only next to a
		// config: two sandboxes on one project (two brokers) could
		// otherwise race a config in while the other renames a HEAD in.
		return "git directory (HEAD outside .git): " + l.path()
	case base == "hooks" && has("../HEAD"):
		return "hooks of a git directory: " + l.path()
	case base == "info" && l.name == "attributes" && has("../HEAD"):
		return "attributes of a git directory: " + l.path()
	}
	return ""
}

func result(err error) reply {
	if err == nil {
		return okReply
	}
	return fail(errnoOf(err))
}

func bytePtr(s string) *byte {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		b := byte(0)
		return &b
	}
	return p
}
