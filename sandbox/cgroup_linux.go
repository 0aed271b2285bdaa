package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// A cgroupDir is a cgroup v1 directory made for one sandbox, below the
// cgroup srt-mcp itself runs in, so whatever limits the user or a service
// manager put on srt-mcp still hold for the sandbox (v1 memory and pids
// limits are hierarchical).
//
// cgroup v2 is not used yet: this code is tested only on a v1 machine, and
// a security control does not ship untested. On a v2-only host the
// rlimit fallback applies and the notice says so.
type cgroupDir struct {
	path  string
	procs *os.File // cgroup.procs, opened here, written by the helper inside
}

var cgroupSeq atomic.Int64

// staleCgroup matches the directories newCgroupV1 makes: srt-mcp-PID-N.
var staleCgroup = regexp.MustCompile(`^srt-mcp-([0-9]+)-[0-9]+$`)

// newCgroupV1 makes a cgroup directory of controller ("pids", "memory")
// for a sandbox and opens its cgroup.procs. It fails when the controller
// is not mounted as cgroup v1 or the directory cannot be made (an
// unprivileged user, a read-only cgroup filesystem in a container).
func newCgroupV1(controller string) (*cgroupDir, error) {
	parent, err := ownCgroupV1(controller)
	if err != nil {
		return nil, err
	}
	removeStaleCgroups(parent)
	dir := filepath.Join(parent, fmt.Sprintf("srt-mcp-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	// Opened here with srt-mcp's credentials: the kernel checks a cgroup v1
	// migration against the opener of cgroup.procs, so the helper inside,
	// without capabilities, can still move itself in through it.
	procs, err := os.OpenFile(filepath.Join(dir, "cgroup.procs"), os.O_WRONLY, 0)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	return &cgroupDir{path: dir, procs: procs}, nil
}

// set writes a control file of the cgroup.
func (c *cgroupDir) set(file, value string) error {
	if err := os.WriteFile(filepath.Join(c.path, file), []byte(value), 0); err != nil {
		return fmt.Errorf("setting %s of cgroup %s: %w", file, c.path, err)
	}
	return nil
}

// has reports whether the cgroup has a control file (memory.memsw.* exists
// only with swap accounting).
func (c *cgroupDir) has(file string) bool {
	_, err := os.Stat(filepath.Join(c.path, file))
	return err == nil
}

// remove kills whatever is still in the cgroup and removes it. The
// sandbox's tasks are normally gone already (they die with its PID
// namespace); the kill makes sure, and the short retry covers tasks that
// are exiting. A directory that stays is removed by a later srt-mcp
// (removeStaleCgroups).
func (c *cgroupDir) remove() {
	if c.procs != nil {
		c.procs.Close()
		c.procs = nil
	}
	for i := 0; i < 50; i++ {
		if data, err := os.ReadFile(filepath.Join(c.path, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		err := os.Remove(c.path)
		if err == nil || errors.Is(err, os.ErrNotExist) || !errors.Is(err, syscall.EBUSY) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeStaleCgroups removes sandbox cgroups left by srt-mcp processes
// that are gone (killed before they could clean up). A cgroup still in use
// cannot be removed (EBUSY), and one of a live srt-mcp is not touched.
func removeStaleCgroups(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleCgroup.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); err == nil {
			continue
		}
		os.Remove(filepath.Join(parent, e.Name()))
	}
}

// ownCgroupV1 returns the directory of srt-mcp's own cgroup in the v1
// hierarchy of controller.
func ownCgroupV1(controller string) (string, error) {
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	cgroups, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	return cgroupV1Dir(string(mounts), string(cgroups), controller)
}

// cgroupV1Dir finds, from /proc/self/mountinfo and /proc/self/cgroup, the
// directory of the process's cgroup in controller's v1 hierarchy.
func cgroupV1Dir(mountinfo, cgroups, controller string) (string, error) {
	var own string
	found := false
	for _, line := range strings.Split(cgroups, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && hasField(parts[1], controller) {
			own, found = parts[2], true
			break
		}
	}
	if !found {
		return "", fmt.Errorf("no cgroup v1 %s controller", controller)
	}
	sc := bufio.NewScanner(strings.NewReader(mountinfo))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || g[0] != "cgroup" || !hasField(g[2], controller) {
			continue
		}
		root, mountpoint := unescapeMount(f[3]), unescapeMount(f[4])
		rel, ok := strings.CutPrefix(own, root)
		if root == "/" {
			rel, ok = own, true
		}
		if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
			continue // this mount does not show our cgroup
		}
		return filepath.Join(mountpoint, rel), nil
	}
	return "", fmt.Errorf("the cgroup v1 %s controller is not mounted", controller)
}

func hasField(list, name string) bool {
	for _, f := range strings.Split(list, ",") {
		if f == name {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
