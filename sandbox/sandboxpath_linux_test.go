package sandbox

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestResolve walks paths in this process's own view (its root is the
// host's), with the links an attacker would plant.
func TestResolve(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	tree(t, root, "p/.git/hooks/", "p/src/", "p/file")
	links := map[string]string{
		"p/up":       "..",
		"p/hooklink": ".git/hooks/pre-commit", // dangling: the file does not exist
		"p/abs":      root + "/p/.git",
		"p/loop1":    "loop2",
		"p/loop2":    "loop1",
		"p/src/back": "../../p/.git/hooks",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	c, e := newCaller(unix.Gettid())
	if e != 0 {
		t.Fatal(e)
	}
	defer c.close()
	cases := []struct {
		path   string
		follow bool
		want   string // resolved path, or an errno name
	}{
		{"p/src/../.git/hooks/pre-commit", false, "p/.git/hooks/pre-commit"},
		{"p/up/p/.git/config", false, "p/.git/config"},
		{"p/hooklink", true, "p/.git/hooks/pre-commit"}, // a dangling link is followed to where a create would land
		{"p/hooklink", false, "p/hooklink"},
		{"p/abs/hooks/x", false, "p/.git/hooks/x"},
		{"p/src/back/pre-commit", false, "p/.git/hooks/pre-commit"},
		{"p/loop1", true, "ELOOP"},
		{"p/file/x", false, "ENOTDIR"},
		{"p/missing/x", false, "ENOENT"},
		{"p/src/", false, "p/src"},
		{"p/file/../x", false, "ENOTDIR"},
		{"../../../../../../../../" + root + "/p/.git/config", false, "p/.git/config"}, // ".." stops at the root
		{"p/src/.", false, "p/src"},
	}
	for _, tc := range cases {
		path := root + "/" + tc.path
		if tc.path[0] == '.' {
			path = "/" + tc.path
		}
		l, e := c.resolve(path, tc.follow)
		got := ""
		if e != 0 {
			got = unix.ErrnoName(e)
		} else {
			got, _ = filepath.Rel(root, l.path())
			l.close()
		}
		if got != tc.want {
			t.Errorf("resolve(%s, follow=%v) = %s, want %s", tc.path, tc.follow, got, tc.want)
		}
	}
	// /proc/self is the caller, not the broker: here both are this process.
	l, e := c.resolve("/proc/self/fd", false)
	if e != 0 || l.path() != "/proc/"+strconv.Itoa(os.Getpid())+"/fd" {
		t.Errorf("/proc/self/fd = %s (%v)", l.path(), e)
	}
	l.close()
	if _, e := c.resolve("/proc/1/fd/0", false); e != unix.EACCES {
		t.Errorf("another process's /proc: %v, want EACCES", e)
	}
}
