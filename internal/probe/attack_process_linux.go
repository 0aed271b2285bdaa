package probe

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// openProcMem opens /proc/PID/mem read-write: with it a process can rewrite
// another's code without ptrace(2) (the kernel checks ptrace access, but a
// syscall filter on ptrace alone does not see it).
func openProcMem(pid int) error {
	f, err := os.OpenFile("/proc/"+strconv.Itoa(pid)+"/mem", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

// stealFD takes a copy of the first descriptor pid has open.
func stealFD(pid int) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	for fd := 0; fd < 256; fd++ {
		got, err := unix.PidfdGetfd(pidfd, fd, 0)
		if err == nil {
			unix.Close(got)
			return nil
		}
		if !errors.Is(err, unix.EBADF) {
			return fmt.Errorf("pidfd_getfd: %w", err)
		}
	}
	return errors.New("pidfd_getfd: no descriptor found")
}

// vmRead reads a few bytes of pid's memory with process_vm_readv. When
// /proc/PID/maps is hidden it guesses an address: EFAULT then still means
// the kernel granted access and only the address was wrong.
func vmRead(pid int) error {
	addr := uintptr(0x400000)
	if f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps"); err == nil {
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			start, _, _ := strings.Cut(sc.Text(), "-")
			if n, err := strconv.ParseUint(start, 16, 64); err == nil {
				addr = uintptr(n)
			}
		}
		f.Close()
	}
	b := make([]byte, 16)
	_, err := unix.ProcessVMReadv(pid, []unix.Iovec{{Base: &b[0], Len: uint64(len(b))}}, []unix.RemoteIovec{{Base: addr, Len: len(b)}}, 0)
	if errors.Is(err, unix.EFAULT) {
		return nil
	}
	return err
}

// openSocket creates a socket (or socketpair) of the given family.
func openSocket(domain, typ, proto int, pair bool) (string, error) {
	if pair {
		fds, err := unix.Socketpair(domain, typ|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return "", fmt.Errorf("socketpair(%d, %d, %d): %w", domain, typ, proto, err)
		}
		unix.Close(fds[0])
		unix.Close(fds[1])
		return fmt.Sprintf("socketpair(%d, %d, %d) created", domain, typ, proto), nil
	}
	fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return "", fmt.Errorf("socket(%d, %d, %d): %w", domain, typ, proto, err)
	}
	unix.Close(fd)
	return fmt.Sprintf("socket(%d, %d, %d) created", domain, typ, proto), nil
}

// keyringAttack reads every key of the session and user keyrings it
// inherited, and tries to add and request keys. Any call that reaches the
// kernel's keyring code (anything but EPERM or ENOSYS from a filter) counts:
// keyrings are not namespaced, so they are the host's.
func keyringAttack() (string, error) {
	var reached, refused []string
	note := func(what string, err error) bool {
		if err == nil {
			return true
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
			refused = append(refused, fmt.Sprintf("%s: %v", what, err))
		} else {
			reached = append(reached, fmt.Sprintf("%s: %v", what, err))
		}
		return false
	}
	for _, ring := range []struct {
		name string
		spec int
	}{{"session", unix.KEY_SPEC_SESSION_KEYRING}, {"user", unix.KEY_SPEC_USER_KEYRING}} {
		id, err := unix.KeyctlGetKeyringID(ring.spec, false)
		if !note(ring.name+" keyring id", err) {
			continue
		}
		buf := make([]byte, 4096)
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if !note(ring.name+" keyring read", err) {
			continue
		}
		reached = append(reached, fmt.Sprintf("%s keyring %d readable", ring.name, id))
		for i := 0; i+4 <= min(n, len(buf)); i += 4 {
			key := int(int32(uint32(buf[i]) | uint32(buf[i+1])<<8 | uint32(buf[i+2])<<16 | uint32(buf[i+3])<<24))
			desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, key)
			if !note("describe key", err) {
				continue
			}
			payload := make([]byte, 4096)
			m, err := unix.KeyctlBuffer(unix.KEYCTL_READ, key, payload, 0)
			if note("read key", err) {
				reached = append(reached, fmt.Sprintf("key %q = %q", desc, payload[:min(m, len(payload))]))
			} else {
				reached = append(reached, fmt.Sprintf("key %q", desc))
			}
		}
	}
	if _, err := unix.AddKey("user", "srt-mcp-probe", []byte("planted"), unix.KEY_SPEC_SESSION_KEYRING); note("add_key", err) {
		reached = append(reached, "add_key to the session keyring worked")
	}
	if _, err := unix.RequestKey("user", "srt-mcp-probe-absent", "", 0); note("request_key", err) {
		reached = append(reached, "request_key worked")
	}
	if len(reached) > 0 {
		return strings.Join(reached, "; "), nil
	}
	return "", errors.New("keyrings refused: " + strings.Join(refused, "; "))
}
