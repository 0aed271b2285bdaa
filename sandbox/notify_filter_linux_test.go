package sandbox

import (
	"encoding/binary"
	"runtime"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// runFilter evaluates a filter built from the few instruction kinds ours
// use, on a little-endian seccomp_data (bpf.NewVM would load big-endian).
func runNotifyFilter(t *testing.T, prog []bpf.Instruction, arch uint32, nr uint32, args ...uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], nr)
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		switch in := prog[pc].(type) {
		case bpf.LoadAbsolute:
			acc = binary.LittleEndian.Uint32(data[in.Off:])
		case bpf.JumpIf:
			var ok bool
			switch in.Cond {
			case bpf.JumpEqual:
				ok = acc == in.Val
			case bpf.JumpBitsSet:
				ok = acc&in.Val != 0
			case bpf.JumpGreaterOrEqual:
				ok = acc >= in.Val
			default:
				t.Fatalf("condition %v", in.Cond)
			}
			if ok {
				pc += int(in.SkipTrue)
			} else {
				pc += int(in.SkipFalse)
			}
		case bpf.RetConstant:
			return in.Val
		default:
			t.Fatalf("instruction %T", in)
		}
	}
	t.Fatal("fell off the end")
	return 0
}

func TestNotifyProgram(t *testing.T) {
	arch := auditArch[runtime.GOARCH]
	const notif, allow = unix.SECCOMP_RET_USER_NOTIF, unix.SECCOMP_RET_ALLOW
	type call struct {
		name string
		nr   uint32
		args []uint64
		// want without and with observation
		enforce, observe uint32
	}
	calls := []call{
		{"openat read-only", unix.SYS_OPENAT, []uint64{0, 0, unix.O_RDONLY | unix.O_CLOEXEC}, allow, notif},
		{"openat O_WRONLY", unix.SYS_OPENAT, []uint64{0, 0, unix.O_WRONLY}, notif, notif},
		{"openat O_RDWR", unix.SYS_OPENAT, []uint64{0, 0, unix.O_RDWR}, notif, notif},
		{"openat O_CREAT (read-only!)", unix.SYS_OPENAT, []uint64{0, 0, unix.O_CREAT}, notif, notif},
		{"openat O_TRUNC (read-only!)", unix.SYS_OPENAT, []uint64{0, 0, unix.O_TRUNC}, notif, notif},
		{"openat O_TMPFILE", unix.SYS_OPENAT, []uint64{0, 0, unix.O_TMPFILE | unix.O_RDWR}, notif, notif},
		{"mkdirat", unix.SYS_MKDIRAT, nil, notif, notif},
		{"mknodat", unix.SYS_MKNODAT, nil, notif, notif},
		{"unlinkat", unix.SYS_UNLINKAT, nil, notif, notif},
		{"renameat", unix.SYS_RENAMEAT, nil, notif, notif},
		{"renameat2", unix.SYS_RENAMEAT2, nil, notif, notif},
		{"linkat", unix.SYS_LINKAT, nil, notif, notif},
		{"symlinkat", unix.SYS_SYMLINKAT, nil, notif, notif},
		{"fchmodat", unix.SYS_FCHMODAT, nil, notif, notif},
		{"fchmodat2", unix.SYS_FCHMODAT2, nil, notif, notif},
		{"fchmod", unix.SYS_FCHMOD, nil, notif, notif},
		{"truncate", unix.SYS_TRUNCATE, nil, notif, notif},
		{"umask (for the broker's umask cache)", unix.SYS_UMASK, nil, notif, notif},
		{"execve", unix.SYS_EXECVE, nil, allow, notif},
		{"fchownat", unix.SYS_FCHOWNAT, nil, allow, notif},
		{"socket AF_UNIX", unix.SYS_SOCKET, []uint64{unix.AF_UNIX}, allow, notif},
		{"socket AF_INET", unix.SYS_SOCKET, []uint64{unix.AF_INET}, allow, allow},
		{"getpid", unix.SYS_GETPID, nil, allow, allow},
		{"write", unix.SYS_WRITE, nil, allow, allow},
	}
	if runtime.GOARCH == "amd64" {
		calls = append(calls,
			call{"open read-only", unix.SYS_OPEN, []uint64{0, unix.O_RDONLY}, allow, notif},
			call{"open O_WRONLY|O_CREAT", unix.SYS_OPEN, []uint64{0, unix.O_WRONLY | unix.O_CREAT}, notif, notif},
			call{"creat", unix.SYS_CREAT, nil, notif, notif},
			call{"rename", unix.SYS_RENAME, nil, notif, notif},
			call{"link", unix.SYS_LINK, nil, notif, notif},
			call{"symlink", unix.SYS_SYMLINK, nil, notif, notif},
			call{"mkdir", unix.SYS_MKDIR, nil, notif, notif},
			call{"rmdir", unix.SYS_RMDIR, nil, notif, notif},
			call{"unlink", unix.SYS_UNLINK, nil, notif, notif},
			call{"chmod", unix.SYS_CHMOD, nil, notif, notif},
			call{"mknod", unix.SYS_MKNOD, nil, notif, notif},
		)
	}
	for _, observe := range []bool{false, true} {
		prog, err := notifyProgram(observe, observe)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bpf.Assemble(prog); err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			want := c.enforce
			if observe {
				want = c.observe
			}
			if got := runNotifyFilter(t, prog, arch, c.nr, c.args...); got != want {
				t.Errorf("observe=%v %s: %#x, want %#x", observe, c.name, got, want)
			}
		}
		// A foreign ABI is the enforcing filter's to refuse.
		if got := runNotifyFilter(t, prog, arch^1, unix.SYS_RENAMEAT2); got != allow {
			t.Errorf("foreign arch: %#x", got)
		}
	}
}

// TestSeccompRefusesOpenat2: its flags live in memory, where neither BPF
// nor a race-free broker can read them.
func TestSeccompRefusesOpenat2(t *testing.T) {
	prog, err := seccompProgram(SeccompOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := runNotifyFilter(t, prog, auditArch[runtime.GOARCH], unix.SYS_OPENAT2); got != unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS) {
		t.Errorf("openat2: %#x", got)
	}
}
