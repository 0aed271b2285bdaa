package sandbox

import "golang.org/x/sys/unix"

// Legacy path syscalls that only amd64 has (arm64 has just the *at forms).
var notifyArchSyscalls = map[uint32]notifyTarget{
	unix.SYS_OPEN:    {name: "open", paths: [][2]int{{-1, 0}}, flags: 1},
	unix.SYS_CREAT:   {name: "creat", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_MKDIR:   {name: "mkdir", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_RMDIR:   {name: "rmdir", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_UNLINK:  {name: "unlink", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_RENAME:  {name: "rename", paths: [][2]int{{-1, 0}, {-1, 1}}, flags: -1, write: true},
	unix.SYS_LINK:    {name: "link", paths: [][2]int{{-1, 1}}, flags: -1, write: true},
	unix.SYS_SYMLINK: {name: "symlink", paths: [][2]int{{-1, 1}}, flags: -1, write: true},
	unix.SYS_MKNOD:   {name: "mknod", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_CHMOD:   {name: "chmod", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_CHOWN:   {name: "chown", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_LCHOWN:  {name: "lchown", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_UTIMES:  {name: "utimes", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
}
