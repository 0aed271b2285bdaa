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
	// socketpair(AF_UNIX) stays allowed: it cannot reach anything outside.
	// Every other family is refused whatever this says (socketRule).
	AllowUnixSockets bool
	// AllowListen leaves listen(2) alone (network.allowLocalBinding). By
	// default a server cannot accept connections: inside its own network
	// namespace nobody but itself could connect, so a listener has no
	// legitimate client unless the policy says the server needs one.
	AllowListen bool
	// AllowPtrace (srtMcp.allowPtrace) leaves ptrace(2), process_vm_readv,
	// process_vm_writev, process_madvise and pidfd_getfd alone, for
	// debuggers and profilers of the server's own children.
	AllowPtrace bool
}

// seccomp_data offsets (include/uapi/linux/seccomp.h); argument words are
// 64 bits and the low half comes first on the little-endian arches we build.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16
	offArg1 = 24
	offArg2 = 32
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
	rules := []rule{
		{unix.SYS_SOCKET, socketRule(opt.AllowUnixSockets)},
		// A socketpair is connected to itself only: harmless for AF_UNIX,
		// and no other family has a use for it.
		{unix.SYS_SOCKETPAIR, []bpf.Instruction{
			bpf.LoadAbsolute{Off: offArg0, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_UNIX, SkipFalse: 1},
			retAllow,
			retErrno(unix.EAFNOSUPPORT),
		}},
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
	// Kernel keyrings are not namespaced: the session keyring inherited
	// from the host (and, as root, the user keyring) holds the host's keys,
	// and request_key can run host helpers. No MCP server needs them.
	for _, nr := range []uint32{unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY} {
		rules = append(rules, rule{nr, []bpf.Instruction{retErrno(unix.EPERM)}})
	}
	if !opt.AllowPtrace {
		// The calls that act on another process's memory or descriptors.
		// Every process of the sandbox carries this filter (the helper,
		// PID 1, installs it on all its threads before it starts the
		// server), so with allowPtrace a server only reaches processes as
		// confined as itself; the helper is also non-dumpable, which keeps
		// even a tracing server out of it.
		for _, nr := range []uint32{unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV, unix.SYS_PROCESS_MADVISE, unix.SYS_PIDFD_GETFD} {
			rules = append(rules, rule{nr, []bpf.Instruction{retErrno(unix.EPERM)}})
		}
	}
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

// socketRule is the allow-list of socket families: IPv4 and IPv6 (the
// proxies are reached over loopback; the network namespace has nothing
// else), route netlink (programs list their addresses with it), and
// AF_UNIX only when allowAllUnixSockets says so (EPERM otherwise, as
// before). Everything else fails with EAFNOSUPPORT, which programs treat
// as "this kernel has no such family": AF_VSOCK above all, whose port space
// is shared with the host and its hypervisor, but also packet, bluetooth,
// the crypto API and the other netlink protocols (audit, uevents, ...),
// all kernel surface no server needs. The family and protocol are ints:
// the kernel reads the low 32 bits, the ones loaded here.
func socketRule(allowUnix bool) []bpf.Instruction {
	unixAction := retErrno(unix.EPERM)
	if allowUnix {
		unixAction = retAllow
	}
	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: offArg0, Size: 4},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_INET, SkipTrue: 7},
		/* 2 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_INET6, SkipTrue: 6},
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_UNIX, SkipTrue: 4},
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_NETLINK, SkipFalse: 2},
		/* 5 */ bpf.LoadAbsolute{Off: offArg2, Size: 4},
		/* 6 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.NETLINK_ROUTE, SkipTrue: 2},
		/* 7 */ retErrno(unix.EAFNOSUPPORT),
		/* 8 */ unixAction,
		/* 9 */ retAllow,
	}
}

var auditArch = map[string]uint32{
	"amd64": unix.AUDIT_ARCH_X86_64,
	"arm64": unix.AUDIT_ARCH_AARCH64,
}

// installSeccomp loads the enforcing filter, which must already have
// no_new_privs, on every thread of the process (TSYNC): the helper stays in
// the sandbox as its PID 1, and none of its threads may run unfiltered
// while the server is there. A filter installed earlier on the calling
// thread alone (the observing one) is synchronised with it.
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
	tid, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): %w", errno)
	}
	if tid != 0 {
		// TSYNC's other failure: the ID of a thread it could not filter.
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): thread %d could not be filtered", tid)
	}
	runtime.KeepAlive(filter)
	return nil
}
