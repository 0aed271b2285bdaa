package sandbox

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Path resolution in the sandbox's view, done by the broker itself.
//
// The walk starts at the sandbox's root (/proc/TID/root, a directory of the
// sandbox's mount namespace: its read-only binds and private /tmp apply to
// everything the broker does below it) and opens one component at a time
// with O_PATH|O_NOFOLLOW. Symlinks are read and their text spliced into the
// rest of the path, with absolute targets restarting at the sandbox's root
// and ".." never climbing above it; so no link can lead the broker out of
// the sandbox's view, and the directory it ends in is the one whose name it
// checked. Nothing changes names behind the walk: every call that can
// (create, rename, link, unlink …) from any process of the sandbox is
// performed by this one supervisor thread, one at a time.
//
// /proc needs care, because the broker is not the caller: /proc/self and
// /proc/thread-self are rewritten to the caller's PID in the sandbox, other
// processes' directories are refused (the broker's host credentials could
// reach more of them than the caller could), and the caller's own
// /proc/PID/fd/N links are followed by their text when it is a path, or
// opened as they are (a pipe, a deleted file) when it is not.

// caller is one notification's view of the sandbox.
type caller struct {
	tid  int // host TID of the thread making the call
	proc int // O_PATH descriptor of /proc/TID: every lookup about the caller goes through it
	root int // O_PATH descriptor of its root directory

	hostProc       bool // the sandbox's /proc is the host's (enableWeakerNestedSandbox)
	status         bool // /proc/TID/status was read
	nsTgid, nsTid  string
	tgid           int // in our PID namespace
	umask          uint32
	statusReadFail bool
}

// newCaller opens the caller's /proc directory and root. Call it before
// checking that the notification is still valid: a /proc/TID descriptor
// stays tied to that task, so once the check passes, nothing looked up
// through it can belong to a process that reused the TID (a host process
// would have the host's root).
func newCaller(tid int) (*caller, unix.Errno) {
	proc, err := unix.Open("/proc/"+strconv.Itoa(tid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, unix.ESRCH
	}
	root, err := unix.Openat(proc, "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(proc)
		return nil, unix.ESRCH
	}
	return &caller{tid: tid, proc: proc, root: root}, 0
}

func (c *caller) close() {
	unix.Close(c.root)
	unix.Close(c.proc)
}

// readStatus reads the caller's PID and TID in the sandbox's PID
// namespace (the last field of NStgid and NSpid) and its umask.
func (c *caller) readStatus() {
	if c.status {
		return
	}
	c.status = true
	c.umask = 0o022
	fd, err := unix.Openat(c.proc, "status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.statusReadFail = true
		return
	}
	f := os.NewFile(uintptr(fd), "status")
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		switch k {
		case "Tgid":
			c.tgid, _ = strconv.Atoi(fields[0])
		case "Umask":
			if m, err := strconv.ParseUint(fields[0], 8, 32); err == nil {
				c.umask = uint32(m)
			}
		// The PIDs are listed from our PID namespace inwards. The
		// sandbox's own /proc shows the innermost one; with the host's
		// /proc bound in (enableWeakerNestedSandbox), ours.
		case "NStgid":
			c.nsTgid = pick(fields, c.hostProc)
		case "NSpid":
			c.nsTid = pick(fields, c.hostProc)
		}
	}
}

func pick(fields []string, first bool) string {
	if first {
		return fields[0]
	}
	return fields[len(fields)-1]
}

// loc is a resolved path: the directory that holds the final entry, and the
// entry's name ("." when the path names the directory itself).
type loc struct {
	dir     int
	ownsDir bool
	dirPath string
	name    string
	// magic: the entry is one of the caller's /proc/PID/fd/N links whose
	// target has no path (pipe, socket, deleted file): open it as it is.
	magic bool
}

func (l *loc) close() {
	if l.ownsDir {
		unix.Close(l.dir)
	}
}

// path is the entry's absolute path in the sandbox's view.
func (l *loc) path() string {
	if l.name == "." {
		return l.dirPath
	}
	return filepath.Join(l.dirPath, l.name)
}

// base returns the absolute sandbox-view path a path argument is relative
// to: the caller's working directory or directory descriptor.
func (c *caller) base(dirfd int, path string) (string, unix.Errno) {
	if strings.HasPrefix(path, "/") {
		return path, 0
	}
	if path == "" {
		return "", unix.ENOENT
	}
	link := "cwd"
	if dirfd != unix.AT_FDCWD {
		link = "fd/" + strconv.Itoa(dirfd)
	}
	dir, err := readlinkat(c.proc, link)
	if err != nil {
		return "", unix.EBADF
	}
	if !strings.HasPrefix(dir, "/") {
		return "", unix.ENOTDIR // a pipe, a socket …
	}
	if strings.HasSuffix(dir, " (deleted)") {
		return "", unix.ENOENT
	}
	return dir + "/" + path, 0
}

const maxSymlinks = 40 // the kernel's limit

// resolve walks path (absolute, in the sandbox's view) to the directory
// holding its final entry. follow says whether a final symlink is followed.
func (c *caller) resolve(path string, follow bool) (loc, unix.Errno) {
	if l, ok := c.resolveFast(path, follow); ok {
		return l, 0
	}
	return c.walk(path, follow)
}

// resolveFast handles the common case in one openat2: a path with no
// symlink anywhere (RESOLVE_NO_SYMLINKS) outside /proc. The kernel
// resolves it below the sandbox's root (RESOLVE_IN_ROOT: ".." stops
// there), and since no link was followed, the lexically cleaned path is
// the directory's real path. Anything else (a link, an error, /proc, ".",
// a trailing slash) takes the component walk, which also gives the right
// errno.
func (c *caller) resolveFast(path string, follow bool) (loc, bool) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 || strings.HasSuffix(path, "/") {
		return loc{}, false
	}
	parent, name := path[:i+1], path[i+1:]
	dirPath := filepath.Clean("/" + parent)
	if name == "." || name == ".." || dirPath == "/proc" || strings.HasPrefix(dirPath, "/proc/") {
		return loc{}, false
	}
	fd, err := unix.Openat2(c.root, parent, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return loc{}, false
	}
	if follow {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			unix.Close(fd)
			return loc{}, false
		}
	}
	return loc{dir: fd, ownsDir: true, dirPath: dirPath, name: name}, true
}

// walk resolves path one component at a time (see the top of this file).
func (c *caller) walk(path string, follow bool) (loc, unix.Errno) {
	stack := []walkNode{{c.root, "/"}}
	closeFrom := func(i int) {
		for _, n := range stack[i:] {
			if n.fd != c.root {
				unix.Close(n.fd)
			}
		}
	}
	trailing := strings.HasSuffix(path, "/")
	comps := splitPath(path)
	if trailing && len(comps) > 0 {
		follow = true // "dir/" names the directory a link points to
	}
	links := 0
	for len(comps) > 0 {
		comp := comps[0]
		comps = comps[1:]
		last := len(comps) == 0
		top := stack[len(stack)-1]
		switch comp {
		case ".", "..":
			if comp == ".." && len(stack) > 1 {
				if top.fd != c.root {
					unix.Close(top.fd)
				}
				stack = stack[:len(stack)-1]
			}
			if last {
				return c.finish(stack, ".", false), 0
			}
			continue
		}
		if top.path == "/proc" {
			c.readStatus()
			switch {
			case comp == "self":
				comp = c.nsTgid
			case comp == "thread-self":
				comp = c.nsTgid
				comps = append([]string{"task", c.nsTid}, comps...)
				last = false
			case isDigits(comp) && comp != c.nsTgid:
				closeFrom(0)
				return loc{}, unix.EACCES // another process's files
			}
			if comp == "" {
				closeFrom(0)
				return loc{}, unix.ENOENT
			}
		}
		fd, err := unix.Openat(top.fd, comp, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			if err == unix.ENOENT && last {
				return c.finish(stack, comp, false), 0
			}
			closeFrom(0)
			return loc{}, errnoOf(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			closeFrom(0)
			return loc{}, errnoOf(err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			if last && !follow {
				unix.Close(fd)
				return c.finish(stack, comp, false), 0
			}
			target, err := readlinkat(top.fd, comp)
			unix.Close(fd)
			if err != nil {
				closeFrom(0)
				return loc{}, errnoOf(err)
			}
			if strings.HasPrefix(top.path, "/proc/") && (!strings.HasPrefix(target, "/") || strings.HasSuffix(target, " (deleted)")) {
				// A /proc/PID/fd/N link to something without a path.
				if last {
					return c.finish(stack, comp, true), 0
				}
				closeFrom(0)
				return loc{}, unix.ENOTDIR
			}
			if links++; links > maxSymlinks {
				closeFrom(0)
				return loc{}, unix.ELOOP
			}
			if strings.HasPrefix(target, "/") {
				closeFrom(1)
				stack = stack[:1]
			}
			comps = append(splitPath(target), comps...)
		case unix.S_IFDIR:
			if last {
				unix.Close(fd)
				return c.finish(stack, comp, false), 0
			}
			stack = append(stack, walkNode{fd, filepath.Join(top.path, comp)})
		default:
			unix.Close(fd)
			if last && !trailing {
				return c.finish(stack, comp, false), 0
			}
			closeFrom(0)
			return loc{}, unix.ENOTDIR
		}
	}
	return c.finish(stack, ".", false), 0 // "/" itself
}

// walkNode is an open directory on the walk and its sandbox-view path.
type walkNode struct {
	fd   int
	path string
}

// finish turns the walk's stack into a loc that keeps the top directory
// open and closes the rest.
func (c *caller) finish(stack []walkNode, name string, magic bool) loc {
	top := stack[len(stack)-1]
	for _, n := range stack[:len(stack)-1] {
		if n.fd != c.root {
			unix.Close(n.fd)
		}
	}
	return loc{dir: top.fd, ownsDir: top.fd != c.root, dirPath: top.path, name: name, magic: magic}
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func readlinkat(dir int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func errnoOf(err error) unix.Errno {
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}
