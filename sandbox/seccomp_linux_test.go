package sandbox

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// runFilter executes an assembled seccomp program on a seccomp_data built
// from nr, arch and args. x/net/bpf's VM cannot be used: it loads words
// big-endian, as for network packets, while seccomp_data is in the
// machine's (little-endian) order. This interpreter knows exactly the
// instructions the filters emit and fails the test on any other.
func runFilter(t *testing.T, prog []bpf.RawInstruction, arch, nr uint32, args ...uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], nr)
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		jump := func(cond bool) {
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		}
		switch in.Op {
		case 0x20: // BPF_LD | BPF_W | BPF_ABS
			if in.K%4 != 0 || in.K+4 > 64 {
				t.Fatalf("pc %d: load at %d outside seccomp_data", pc, in.K)
			}
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case 0x15: // BPF_JMP | BPF_JEQ | BPF_K
			jump(acc == in.K)
		case 0x35: // BPF_JMP | BPF_JGE | BPF_K
			jump(acc >= in.K)
		case 0x45: // BPF_JMP | BPF_JSET | BPF_K
			jump(acc&in.K != 0)
		case 0x06: // BPF_RET | BPF_K
			return in.K
		default:
			t.Fatalf("pc %d: instruction %#x not known to the test interpreter", pc, in.Op)
		}
	}
	t.Fatal("program ran off its end")
	return 0
}

func assembled(t *testing.T, opt SeccompOptions) []bpf.RawInstruction {
	t.Helper()
	insns, err := seccompProgram(opt)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := bpf.Assemble(insns)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func action(ret uint32) string {
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW:
		return "allow"
	case unix.SECCOMP_RET_ERRNO:
		return unix.ErrnoName(unix.Errno(ret & unix.SECCOMP_RET_DATA))
	}
	return fmt.Sprintf("%#x", ret)
}

func TestSeccompProgram(t *testing.T) {
	arch := auditArch[runtime.GOARCH]
	def := SeccompOptions{}
	all := SeccompOptions{AllowUnixSockets: true, AllowListen: true, AllowPtrace: true}
	const high = 1 << 32 // the kernel reads int arguments from the low half only
	tests := []struct {
		name string
		opt  SeccompOptions
		nr   uint32
		args []uint64
		want string
	}{
		{"harmless syscall", def, unix.SYS_READ, nil, "allow"},
		{"socket AF_INET", def, unix.SYS_SOCKET, []uint64{unix.AF_INET, unix.SOCK_STREAM, 0}, "allow"},
		{"socket AF_INET6", def, unix.SYS_SOCKET, []uint64{unix.AF_INET6, unix.SOCK_DGRAM, 0}, "allow"},
		{"socket AF_INET, high bits", def, unix.SYS_SOCKET, []uint64{high | unix.AF_INET, unix.SOCK_STREAM, 0}, "allow"},
		{"socket netlink route", def, unix.SYS_SOCKET, []uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE}, "allow"},
		{"socket netlink audit", def, unix.SYS_SOCKET, []uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT}, "EAFNOSUPPORT"},
		{"socket netlink uevent", all, unix.SYS_SOCKET, []uint64{unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_KOBJECT_UEVENT}, "EAFNOSUPPORT"},
		{"socket netlink route in the high half", def, unix.SYS_SOCKET, []uint64{unix.AF_NETLINK, unix.SOCK_RAW, high | unix.NETLINK_AUDIT}, "EAFNOSUPPORT"},
		{"socket AF_VSOCK", def, unix.SYS_SOCKET, []uint64{unix.AF_VSOCK, unix.SOCK_STREAM, 0}, "EAFNOSUPPORT"},
		{"socket AF_VSOCK, everything allowed", all, unix.SYS_SOCKET, []uint64{unix.AF_VSOCK, unix.SOCK_STREAM, 0}, "EAFNOSUPPORT"},
		{"socket AF_PACKET", def, unix.SYS_SOCKET, []uint64{unix.AF_PACKET, unix.SOCK_DGRAM, 0}, "EAFNOSUPPORT"},
		{"socket AF_BLUETOOTH", def, unix.SYS_SOCKET, []uint64{unix.AF_BLUETOOTH, unix.SOCK_RAW, 0}, "EAFNOSUPPORT"},
		{"socket AF_ALG", def, unix.SYS_SOCKET, []uint64{unix.AF_ALG, unix.SOCK_SEQPACKET, 0}, "EAFNOSUPPORT"},
		{"socket AF_UNIX", def, unix.SYS_SOCKET, []uint64{unix.AF_UNIX, unix.SOCK_STREAM, 0}, "EPERM"},
		{"socket AF_UNIX, high bits", def, unix.SYS_SOCKET, []uint64{high | unix.AF_UNIX, unix.SOCK_STREAM, 0}, "EPERM"},
		{"socket AF_UNIX with allowAllUnixSockets", all, unix.SYS_SOCKET, []uint64{unix.AF_UNIX, unix.SOCK_STREAM, 0}, "allow"},
		{"socketpair AF_UNIX", def, unix.SYS_SOCKETPAIR, []uint64{unix.AF_UNIX, unix.SOCK_STREAM, 0}, "allow"},
		{"socketpair AF_INET", def, unix.SYS_SOCKETPAIR, []uint64{unix.AF_INET, unix.SOCK_STREAM, 0}, "EAFNOSUPPORT"},
		{"socketpair AF_VSOCK", all, unix.SYS_SOCKETPAIR, []uint64{unix.AF_VSOCK, unix.SOCK_STREAM, 0}, "EAFNOSUPPORT"},
		{"keyctl", all, unix.SYS_KEYCTL, []uint64{unix.KEYCTL_READ, 0}, "EPERM"},
		{"add_key", all, unix.SYS_ADD_KEY, nil, "EPERM"},
		{"request_key", all, unix.SYS_REQUEST_KEY, nil, "EPERM"},
		{"ptrace", def, unix.SYS_PTRACE, []uint64{unix.PTRACE_ATTACH, 1}, "EPERM"},
		{"process_vm_readv", def, unix.SYS_PROCESS_VM_READV, nil, "EPERM"},
		{"process_vm_writev", def, unix.SYS_PROCESS_VM_WRITEV, nil, "EPERM"},
		{"process_madvise", def, unix.SYS_PROCESS_MADVISE, nil, "EPERM"},
		{"pidfd_getfd", def, unix.SYS_PIDFD_GETFD, nil, "EPERM"},
		{"ptrace with allowPtrace", all, unix.SYS_PTRACE, []uint64{unix.PTRACE_ATTACH, 1}, "allow"},
		{"pidfd_getfd with allowPtrace", all, unix.SYS_PIDFD_GETFD, nil, "allow"},
		{"process_vm_readv with allowPtrace", all, unix.SYS_PROCESS_VM_READV, nil, "allow"},
		{"listen", def, unix.SYS_LISTEN, nil, "EPERM"},
		{"listen with allowLocalBinding", all, unix.SYS_LISTEN, nil, "allow"},
		{"TIOCSTI", all, unix.SYS_IOCTL, []uint64{0, unix.TIOCSTI}, "EPERM"},
		{"other ioctl", def, unix.SYS_IOCTL, []uint64{0, unix.TCGETS}, "allow"},
		{"clone3", all, unix.SYS_CLONE3, nil, "ENOSYS"},
		{"io_uring_setup", all, unix.SYS_IO_URING_SETUP, nil, "ENOSYS"},
		{"unshare CLONE_NEWUSER", all, unix.SYS_UNSHARE, []uint64{unix.CLONE_NEWUSER}, "EPERM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := action(runFilter(t, assembled(t, tt.opt), arch, tt.nr, tt.args...)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSeccompProgramRefusesOtherABIs: a foreign arch (i386 on amd64, where
// socketcall(2) multiplexes every socket call under one number the rules
// above never see) and x32 numbers are refused before any rule.
func TestSeccompProgramRefusesOtherABIs(t *testing.T) {
	prog := assembled(t, SeccompOptions{AllowUnixSockets: true, AllowListen: true, AllowPtrace: true})
	const auditArchI386 = 0x40000003
	for _, nr := range []uint32{unix.SYS_READ, 102 /* socketcall on i386 */} {
		if got := action(runFilter(t, prog, auditArchI386, nr)); got != "EPERM" {
			t.Errorf("i386 syscall %d: got %s, want EPERM", nr, got)
		}
	}
	if runtime.GOARCH == "amd64" {
		if got := action(runFilter(t, prog, unix.AUDIT_ARCH_X86_64, 0x40000000|unix.SYS_SOCKET, unix.AF_VSOCK)); got != "EPERM" {
			t.Errorf("x32 socket: got %s, want EPERM", got)
		}
	}
	// The program starts by checking the arch: nothing is decided on the
	// number before that.
	if prog[0].Op != 0x20 || prog[0].K != offArch {
		t.Errorf("first instruction %+v does not load the arch", prog[0])
	}
}
