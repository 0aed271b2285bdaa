package probe

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// Resource bombs: a fork bomb, a memory bomb and a /tmp filler, each
// bounded by its argument so a test or selftest never eats a machine
// whose sandbox does not stop it. The fork and memory bombs run in a
// child process (this binary again, see childMode), so the process the
// limit kills (the OOM killer picks the biggest one) is the child and
// the probe survives to report.

// childArg is argv[1] of the probe re-executed as a bomb.
const childArg = "__probe_child"

func init() {
	if len(os.Args) > 2 && os.Args[1] == childArg {
		os.Exit(childMode(os.Args[2:]))
	}
	register(mcp.NewTool("fork_bomb", mcp.WithDescription("Start up to n sleeping processes at once (sleep SECONDS); report how many started. Unless hold is set they are killed before the tool returns."),
		mcp.WithNumber("n", mcp.Required()), mcp.WithString("seconds", mcp.Description("argument of sleep, e.g. a unique value to find them later; default 600")),
		mcp.WithBoolean("hold", mcp.Description("leave the sleepers running"))),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return bombResult(forkBomb(req.GetInt("n", 0), req.GetString("seconds", "600"), req.GetBool("hold", false)))
		})
	register(mcp.NewTool("memory_bomb", mcp.WithDescription("Allocate mb MiB of anonymous memory in a child process, touching every page; report how far it got."),
		mcp.WithNumber("mb", mcp.Required())),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return bombResult(memoryBomb(req.GetInt("mb", 0)))
		})
	register(mcp.NewTool("fill_tmp", mcp.WithDescription("Write mb MiB to a file in /tmp, then delete it; report how far it got."),
		mcp.WithNumber("mb", mcp.Required())),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return bombResult(fillTmp(req.GetInt("mb", 0)))
		})
	register(mcp.NewTool("leave_cgroup", mcp.WithDescription("Try to move this process out of the sandbox's cgroups: write it into the root cgroup of every v1 hierarchy and the cgroup2 root, and look for an inherited cgroup descriptor.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return bombResult(leaveCgroup())
		})
	register(mcp.NewTool("resource_limits", mcp.WithDescription("Run the fork bomb, memory bomb and /tmp filler with the given bounds (0 skips one); an error result when every one was stopped."),
		mcp.WithNumber("processes"), mcp.WithNumber("memoryMB"), mcp.WithNumber("tmpMB")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var stopped, escaped []string
			for _, b := range []struct {
				n   int
				run func(int) (string, bool)
			}{
				{req.GetInt("processes", 0), func(n int) (string, bool) { return forkBomb(n, "600", false) }},
				{req.GetInt("memoryMB", 0), memoryBomb},
				{req.GetInt("tmpMB", 0), fillTmp},
			} {
				if b.n <= 0 {
					continue
				}
				if text, ok := b.run(b.n); ok {
					escaped = append(escaped, text)
				} else {
					// The counts only (the reasons are long): one short line.
					count, _, _ := strings.Cut(text, ": ")
					stopped = append(stopped, count)
				}
			}
			if len(escaped) > 0 {
				return mcp.NewToolResultText("ESCAPED: " + strings.Join(escaped, "; ")), nil
			}
			if req.GetInt("memoryMB", 0) > 0 && !inSandboxCgroup("memory") {
				// Stopped, but only per process (RLIMIT_DATA): say so.
				stopped = append([]string{"memory per process only"}, stopped...)
			}
			return mcp.NewToolResultError(strings.Join(stopped, "; ")), nil
		})
}

// bombResult turns a bomb's outcome into a tool result: "ESCAPED: …" when
// it went all the way, an error when it was stopped.
func bombResult(text string, escaped bool) (*mcp.CallToolResult, error) {
	if escaped {
		return mcp.NewToolResultText("ESCAPED: " + text), nil
	}
	return mcp.NewToolResultError(text), nil
}

// forkBomb starts up to n sleepers from a child and reports how many ran
// at once: "started K of N".
func forkBomb(n int, seconds string, hold bool) (string, bool) {
	if _, err := strconv.ParseFloat(seconds, 64); err != nil {
		return "seconds: not a number", false
	}
	got, why := runChild("fork", strconv.Itoa(n), seconds, strconv.FormatBool(hold))
	text := fmt.Sprintf("started %d of %d processes", got, n)
	if got < n {
		return text + ": " + why, false
	}
	return text, true
}

// memoryBomb allocates mb MiB in a child: "allocated K of N MiB".
func memoryBomb(mb int) (string, bool) {
	got, why := runChild("alloc", strconv.Itoa(mb))
	text := fmt.Sprintf("allocated %d of %d MiB", got, mb)
	if got < mb {
		return text + ": " + why, false
	}
	return text, true
}

// fillTmp writes mb MiB to /tmp and deletes it: "wrote K of N MiB to /tmp".
func fillTmp(mb int) (string, bool) {
	f, err := os.CreateTemp("/tmp", "srt-mcp-probe-fill-")
	if err != nil {
		return "create: " + err.Error(), false
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i) // not zeros: nothing may store it sparsely
	}
	got := 0
	for got < mb {
		if _, err := f.Write(buf); err != nil {
			return fmt.Sprintf("wrote %d of %d MiB to /tmp: %v", got, mb, err), false
		}
		got++
	}
	if err := f.Sync(); err != nil {
		return fmt.Sprintf("wrote %d of %d MiB to /tmp: %v", got, mb, err), false
	}
	return fmt.Sprintf("wrote %d of %d MiB to /tmp", got, mb), true
}

// runChild runs this binary as a bomb and returns the last count it
// reported ("ok K" lines) and, when it did not finish ("done"), why.
func runChild(args ...string) (int, string) {
	cmd := exec.Command("/proc/self/exe", append([]string{childArg}, args...)...)
	cmd.Stderr = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err.Error()
	}
	if err := cmd.Start(); err != nil {
		return 0, "starting the child: " + err.Error()
	}
	got, last, done := 0, "", false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "ok "):
			got, _ = strconv.Atoi(line[3:])
		case line == "done":
			done = true
		default:
			last = line
		}
	}
	err = cmd.Wait()
	switch {
	case done && err == nil:
		return got, ""
	case last != "":
		return got, last
	case err != nil:
		return got, "child: " + err.Error()
	}
	return got, "child ended early"
}

// childMode is the probe re-executed as a bomb. It writes "ok K" after
// each step, then "done" if it reached its target, or the error that
// stopped it.
func childMode(args []string) int {
	if len(args) < 2 {
		return 2
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		return 2
	}
	switch args[0] {
	case "fork":
		if len(args) != 4 {
			return 2
		}
		return childFork(n, args[2], args[3] == "true")
	case "alloc":
		return childAlloc(n)
	}
	return 2
}

func childFork(n int, seconds string, hold bool) int {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	var procs []*os.Process
	defer func() {
		if hold {
			return
		}
		for _, p := range procs {
			p.Kill()
		}
		for _, p := range procs {
			p.Wait()
		}
	}()
	for i := 0; i < n; i++ {
		p, err := os.StartProcess(sleep, []string{"sleep", seconds}, &os.ProcAttr{})
		if err != nil {
			fmt.Printf("ok %d\nfork: %v\n", len(procs), err)
			return 1
		}
		procs = append(procs, p)
		if len(procs)%50 == 0 {
			fmt.Printf("ok %d\n", len(procs))
		}
	}
	fmt.Printf("ok %d\ndone\n", len(procs))
	return 0
}

func childAlloc(mb int) int {
	const chunk = 16 // MiB per mapping
	got := 0
	page := os.Getpagesize()
	for got < mb {
		size := min(chunk, mb-got)
		m, err := mmapAnon(size << 20)
		if err != nil {
			fmt.Printf("mmap: %v\n", err)
			return 1
		}
		for i := 0; i < len(m); i += page {
			m[i] = 1 // touch: make the page real
		}
		got += size
		fmt.Printf("ok %d\n", got)
	}
	fmt.Println("done")
	return 0
}

// leaveCgroup tries to escape the limits by leaving the cgroup: a process
// that writes itself into a root cgroup.procs is no longer bound by the
// sandbox's pids.max or memory limit.
func leaveCgroup() (string, bool) {
	files, _ := filepath.Glob("/sys/fs/cgroup/*/cgroup.procs")
	files = append(files, "/sys/fs/cgroup/cgroup.procs")
	var errs []string
	for _, f := range files {
		if err := os.WriteFile(f, []byte("0"), 0); err == nil {
			return "moved into " + f, true
		} else if !os.IsNotExist(err) {
			errs = append(errs, err.Error())
		}
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		// Go's runtime keeps cpu.cfs_quota_us open for reading (GOMAXPROCS);
		// only a descriptor open for writing could move a process.
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil || !strings.HasPrefix(target, "/sys/fs/cgroup") {
			continue
		}
		info, _ := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				if flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil && flags&3 != 0 {
					return "inherited writable descriptor " + fd.Name() + " -> " + target, true
				}
			}
		}
	}
	if len(errs) == 0 {
		return "no cgroup filesystem visible", false
	}
	return strings.Join(errs, "; "), false
}

// inSandboxCgroup reports whether this process is in a cgroup srt-mcp made
// for the sandbox (cgroup_linux.go names them srt-mcp-PID-N).
func inSandboxCgroup(controller string) bool {
	data, _ := os.ReadFile("/proc/self/cgroup")
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && f[1] == controller && strings.Contains(f[2], "/srt-mcp-") {
			return true
		}
	}
	return false
}
