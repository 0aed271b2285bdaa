package sandbox

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// SeccompOptions selects what the filter refuses.
type SeccompOptions struct {
	// AllowUnixSockets leaves socket(AF_UNIX, ...) alone. By default it fails
	// with EPERM: the read-only view of / still shows host sockets such as
	// /var/run/docker.sock, and connecting to one is a full escape.
	// socketpair(2) stays allowed: it cannot reach anything outside.
	AllowUnixSockets bool
	// AllowListen leaves listen(2) alone (network.allowLocalBinding). By
	// default a server cannot accept connections: inside its own network
	// namespace nobody but itself could connect, so a listener has no
	// legitimate client unless the policy says the server needs one.
	AllowListen bool
}

// seccomp_data offsets (include/uapi/linux/seccomp.h); argument words are
// 64 bits and the low half comes first on the little-endian arches we build.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16
	offArg1 = 24
)

func retErrno(errno unix.Errno) bpf.Instruction {
	return bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(errno)}
}

var retAllow = bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW}

// seccompProgram builds the classic BPF filter. Each syscall rule is a block
// that always returns, so the comparison chain only ever jumps over whole
// blocks and the accumulator still holds the syscall number between them.
func seccompProgram(opt SeccompOptions) ([]bpf.Instruction, error) {
	arch, ok := auditArch[runtime.GOARCH]
	if !ok {
		return nil, fmt.Errorf("seccomp filter: unsupported architecture %s", runtime.GOARCH)
	}
	type rule struct {
		nr   uint32
		body []bpf.Instruction
	}
	var rules []rule
	if !opt.AllowUnixSockets {
		rules = append(rules, rule{unix.SYS_SOCKET, []bpf.Instruction{
			bpf.LoadAbsolute{Off: offArg0, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_UNIX, SkipFalse: 1},
			retErrno(unix.EPERM),
			retAllow,
		}})
	}
	if !opt.AllowListen {
		rules = append(rules, rule{unix.SYS_LISTEN, []bpf.Instruction{retErrno(unix.EPERM)}})
	}
	// Terminal injection into whatever terminal the server inherited; bwrap's
	// --new-session already detaches it, this is the second lock.
	rules = append(rules, rule{unix.SYS_IOCTL, []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArg1, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.TIOCSTI, SkipTrue: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.TIOCLINUX, SkipFalse: 1},
		retErrno(unix.EPERM),
		retAllow,
	}})
	// New user namespaces would hand the server a full capability set over
	// a fresh namespace: not an escape from the locked mounts, but far more
	// kernel surface than an MCP server needs.
	newUser := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArg0, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: unix.CLONE_NEWUSER, SkipFalse: 1},
		retErrno(unix.EPERM),
		retAllow,
	}
	rules = append(rules, rule{unix.SYS_UNSHARE, newUser}, rule{unix.SYS_CLONE, newUser})
	// clone3 passes its flags in memory BPF cannot read; ENOSYS makes libc
	// fall back to clone(2), which is checked above. io_uring can open
	// sockets (IORING_OP_SOCKET) without going through socket(2); ENOSYS
	// makes libuv and others fall back to plain syscalls.
	// openat2 keeps its flags in memory too (struct open_how): the broker
	// could not tell a read from a create without a racy read, and libc
	// falls back to openat on ENOSYS.
	for _, nr := range []uint32{unix.SYS_CLONE3, unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER, unix.SYS_OPENAT2} {
		rules = append(rules, rule{nr, []bpf.Instruction{retErrno(unix.ENOSYS)}})
	}

	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: arch, SkipTrue: 1},
		// A foreign ABI (i386 on amd64, with socketcall) could bypass every
		// number below: refuse it outright.
		retErrno(unix.EPERM),
		bpf.LoadAbsolute{Off: offNr, Size: 4},
	}
	if runtime.GOARCH == "amd64" {
		// x32 syscalls share the arch value and set bit 30 in the number.
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: 0x40000000, SkipFalse: 1},
			retErrno(unix.EPERM))
	}
	for _, r := range rules {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: r.nr, SkipFalse: uint8(len(r.body))})
		prog = append(prog, r.body...)
	}
	return append(prog, retAllow), nil
}

var auditArch = map[string]uint32{
	"amd64": unix.AUDIT_ARCH_X86_64,
	"arm64": unix.AUDIT_ARCH_AARCH64,
}

// installSeccomp loads the enforcing filter on the calling thread, which
// must already have no_new_privs. The caller must hold runtime.LockOSThread
// and exec from the same thread: the filter is per thread and survives
// execve.
func installSeccomp(opt SeccompOptions) error {
	insns, err := seccompProgram(opt)
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(insns)
	if err != nil {
		return fmt.Errorf("seccomp filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if _, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	}
	runtime.KeepAlive(filter)
	return nil
}
