package sandbox

import "golang.org/x/sys/unix"

// Legacy path syscalls that only amd64 has (arm64 has just the *at forms).
// Each brokered one is performed like its *at form with AT_FDCWD.
var notifyArchSyscalls = map[uint32]notifyTarget{
	unix.SYS_OPEN:    {name: "open", paths: at(-1, 0), flags: 1, broker: bOpen, bFlags: 1, bMode: 2, bExtra: -1},
	unix.SYS_CREAT:   {name: "creat", paths: at(-1, 0), flags: -1, write: true, broker: bOpen, bFlags: -1, bMode: 1, bExtra: -1, fixed: unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC},
	unix.SYS_MKDIR:   {name: "mkdir", paths: at(-1, 0), flags: -1, write: true, broker: bMkdir, bFlags: -1, bMode: 1, bExtra: -1},
	unix.SYS_RMDIR:   {name: "rmdir", paths: at(-1, 0), flags: -1, write: true, broker: bUnlink, bFlags: -1, bMode: -1, bExtra: -1, fixed: unix.AT_REMOVEDIR},
	unix.SYS_UNLINK:  {name: "unlink", paths: at(-1, 0), flags: -1, write: true, broker: bUnlink, bFlags: -1, bMode: -1, bExtra: -1},
	unix.SYS_RENAME:  {name: "rename", paths: [][2]int{{-1, 0}, {-1, 1}}, flags: -1, write: true, broker: bRename, bFlags: -1, bMode: -1, bExtra: -1},
	unix.SYS_LINK:    {name: "link", paths: [][2]int{{-1, 0}, {-1, 1}}, flags: -1, write: true, broker: bLink, bFlags: -1, bMode: -1, bExtra: -1},
	unix.SYS_SYMLINK: {name: "symlink", paths: at(-1, 1), flags: -1, write: true, broker: bSymlink, bFlags: -1, bMode: -1, bExtra: 0},
	unix.SYS_MKNOD:   {name: "mknod", paths: at(-1, 0), flags: -1, write: true, broker: bMknod, bFlags: -1, bMode: 1, bExtra: 2},
	unix.SYS_CHMOD:   {name: "chmod", paths: at(-1, 0), flags: -1, write: true, broker: bChmod, bFlags: -1, bMode: 1, bExtra: -1},
	unix.SYS_CHOWN:   {name: "chown", paths: at(-1, 0), flags: -1, write: true},
	unix.SYS_LCHOWN:  {name: "lchown", paths: at(-1, 0), flags: -1, write: true},
	unix.SYS_UTIMES:  {name: "utimes", paths: at(-1, 0), flags: -1, write: true},
}
