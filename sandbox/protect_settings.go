package sandbox

import "path/filepath"

// protectUserSettings makes ~/.srt-settings.json a protected path whenever
// a writable root covers it (allowWrite ["~"]): a server that rewrote it
// would choose the policy of every later launch. Protected, it cannot be
// written, created, replaced or have its directory renamed away, whether it
// exists yet or not. (The full list of srt-mcp's own files, MCP client
// configs and persistence points is filled in elsewhere; this one entry is
// kept in its own helper so the two do not collide.)
func (p *Policy) protectUserSettings() {
	if p.Home == "" {
		return
	}
	path := filepath.Join(realPath(p.Home), UserSettingsFile)
	if !p.writableRoot(path) {
		return
	}
	for _, pp := range p.Protected {
		if pp.Path == path {
			return
		}
	}
	p.Protected = append(p.Protected, ProtectedPath{Path: path, Rule: "srt-mcp user settings"})
}
