package sandbox

import (
	"path/filepath"
	"strings"
)

// MCP clients start servers wherever suits them: Claude Desktop in "/",
// others in the home directory. The default policy's allowWrite ["."]
// would then make the whole disk or the whole home writable (and a bind of
// "/" used to bring back the host's /proc and /tmp). So a relative
// allowWrite entry (".", a profile's ".", "..", "sub/dir") never makes one
// of the directories below writable; only a path written out in the
// settings (absolute, or starting with ~) names one on purpose.

// systemTrees are directories whose whole subtree belongs to the system or
// to other users: nothing under them is a project.
var systemTrees = []string{
	"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
	"/proc", "/run", "/sbin", "/sys", "/usr",
	"/var/lib", "/var/log", "/var/spool", "/var/cache", "/var/mail",
	"/var/backups", "/var/run", "/var/lock", "/var/db",
	"/System", "/Library", "/Applications", "/private/etc", "/private/var/db",
}

// systemDirs are directories that are not projects themselves, though
// projects may live below them (/opt/app, /srv/site, /var/tmp/build).
var systemDirs = []string{
	"/var", "/opt", "/srv", "/home", "/mnt", "/media", "/root", "/snap",
	"/tmp", "/var/tmp", "/dev/shm", "/Users", "/Volumes", "/private",
	"/private/tmp", "/private/var", "/private/var/tmp",
}

// namedInSettings reports whether a raw allowWrite entry names its
// directory explicitly: an absolute path or one that starts with ~.
func namedInSettings(raw string) bool {
	return filepath.IsAbs(raw) || raw == "~" || strings.HasPrefix(raw, "~/")
}

// implicitWriteRefusal returns why a relative allowWrite entry that
// resolved to path must not be writable ("" when it may be): the
// filesystem root, the home directory or one of its ancestors, or a
// system directory.
func implicitWriteRefusal(path string, homes ...string) string {
	if path == "/" {
		return "it is the filesystem root"
	}
	for _, h := range homes {
		if h == "" {
			continue
		}
		if path == h {
			return "it is the home directory"
		}
		if under(h, path) {
			return "it contains the home directory"
		}
	}
	for _, h := range homes {
		// A directory inside the home is a project even when the home
		// itself lies in a system tree (service accounts such as
		// /var/lib/jenkins); its persistence points stay protected.
		if h != "" && strings.HasPrefix(path, h+"/") {
			return ""
		}
	}
	for _, d := range systemTrees {
		if under(path, d) {
			return "it is a system directory"
		}
	}
	for _, d := range systemDirs {
		if path == d {
			return "it is a system directory"
		}
	}
	return ""
}
