package main

import (
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…"; when it
// is not, the module version and VCS revision Go records in the binary
// (runtime/debug.ReadBuildInfo) are used, so `go install …@v1.2.3` reports
// v1.2.3 and a build from a checkout reports its commit.
var version = ""

func init() {
	bi, _ := debug.ReadBuildInfo()
	version = formatVersion(version, bi)
}

// formatVersion is the version srt-mcp reports: the -ldflags value if one
// was given, else the main module's version from bi followed by the VCS
// revision (and "modified" for a dirty tree) when Go recorded them, else
// "dev". bi may be nil (a binary built without module support).
func formatVersion(ldflags string, bi *debug.BuildInfo) string {
	if ldflags != "" {
		return ldflags
	}
	if bi == nil {
		return "dev"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	// A pseudo-version (v0.0.0-20261128144424-0123456789ab) already names
	// the commit; say the tree was dirty only if it was.
	if strings.HasSuffix(strings.TrimSuffix(v, "+dirty"), "-"+rev) {
		if modified == "" {
			return v
		}
		return v + " (modified)"
	}
	return v + " (" + rev + modified + ")"
}
