package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSupervisorEndsWithItsSandbox (issue 13): once the last process that
// uses the filter is gone, Run returns instead of retrying forever. The
// "sandbox" is a child process (this test binary, in
// TestSupervisorChildProcess) that installs the notifying filter, hands
// its listener over, makes one brokered call and exits.
func TestSupervisorEndsWithItsSandbox(t *testing.T) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parent, child := os.NewFile(uintptr(pair[0]), "parent"), os.NewFile(uintptr(pair[1]), "child")
	defer parent.Close()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSupervisorChildProcess$")
	cmd.Env = append(os.Environ(), "SRT_MCP_NOTIFY_CHILD="+dir)
	cmd.ExtraFiles = []*os.File{child}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(parent.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("no listener: %v", err)
	}
	sup, err := NewSupervisor(fds[0], &Protection{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { sup.Run(nil); close(done) }()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "made-by-the-broker")); err != nil {
		t.Errorf("the brokered mkdir did not happen: %v", err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a liveness bound, not a timing measurement
		t.Fatal("the supervisor still runs after its sandbox ended")
	}
}

// TestSupervisorChildProcess is the sandbox side of the test above; it
// does nothing unless started by it.
func TestSupervisorChildProcess(t *testing.T) {
	dir := os.Getenv("SRT_MCP_NOTIFY_CHILD")
	if dir == "" {
		t.Skip("started by TestSupervisorEndsWithItsSandbox only")
	}
	runtime.LockOSThread() // the filter applies to this thread only
	// Like the sandbox, which bwrap starts with no capabilities: the broker
	// (which drops its own) may only read the memory of a process that has
	// no more than it.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capset(&hdr, &caps[0]); err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	fd, err := installNotify(false, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendmsg(3, []byte{'N'}, unix.UnixRights(fd), nil, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	unix.Close(3)
	if err := unix.Mkdir(filepath.Join(dir, "made-by-the-broker"), 0o755); err != nil {
		t.Fatal(err)
	}
}
