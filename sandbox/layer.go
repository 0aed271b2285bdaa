package sandbox

import (
	"path"
	"slices"
)

// Layer puts over on top of base (a --settings file over a --profile):
//
//   - lists are joined, so an allow list (allowedDomains, allowWrite,
//     allowRead, allowUnixSockets, mcp.tools.allow) extends the profile and
//     a deny list (deniedDomains, denyRead, denyWrite, mcp.tools.deny)
//     tightens it; deny always wins over allow, so a profile's allowance
//     is taken back with a deny entry;
//   - a boolean or number the file gives replaces the profile's;
//   - ignoreViolations entries are joined per command pattern.
//
// With filesystem.allowWrite absent from both, the default (the working
// directory) applies as usual.
func Layer(base, over *Settings) *Settings {
	out := *base
	join := func(a, b []string) []string {
		if a == nil && b == nil {
			return nil
		}
		res := slices.Clone(a)
		for _, x := range b {
			if !slices.Contains(res, x) {
				res = append(res, x)
			}
		}
		if res == nil {
			res = []string{}
		}
		return res
	}
	out.Network.AllowedDomains = join(base.Network.AllowedDomains, over.Network.AllowedDomains)
	out.Network.DeniedDomains = join(base.Network.DeniedDomains, over.Network.DeniedDomains)
	out.Network.AllowUnixSockets = join(base.Network.AllowUnixSockets, over.Network.AllowUnixSockets)
	out.Network.AllowMachLookup = join(base.Network.AllowMachLookup, over.Network.AllowMachLookup)
	out.Filesystem.DenyRead = join(base.Filesystem.DenyRead, over.Filesystem.DenyRead)
	out.Filesystem.AllowRead = join(base.Filesystem.AllowRead, over.Filesystem.AllowRead)
	out.Filesystem.AllowWrite = join(base.Filesystem.AllowWrite, over.Filesystem.AllowWrite)
	out.Filesystem.DenyWrite = join(base.Filesystem.DenyWrite, over.Filesystem.DenyWrite)
	out.MCP.ToolsAllow = join(base.MCP.ToolsAllow, over.MCP.ToolsAllow)
	out.MCP.ToolsDeny = join(base.MCP.ToolsDeny, over.MCP.ToolsDeny)
	if over.Network.DeniedDomainReasons != nil {
		out.Network.DeniedDomainReasons = map[string]string{}
		for k, v := range base.Network.DeniedDomainReasons {
			out.Network.DeniedDomainReasons[k] = v
		}
		for k, v := range over.Network.DeniedDomainReasons {
			out.Network.DeniedDomainReasons[k] = v
		}
	}
	if over.IgnoreViolations != nil {
		out.IgnoreViolations = map[string][]string{}
		for k, v := range base.IgnoreViolations {
			out.IgnoreViolations[k] = v
		}
		for k, v := range over.IgnoreViolations {
			out.IgnoreViolations[k] = join(out.IgnoreViolations[k], v)
		}
	}
	given := func(key string) bool { return over.set[key] }
	setBool := func(key string, dst *bool, v bool) {
		if given(key) {
			*dst = v
		}
	}
	setBool("network.allowAllUnixSockets", &out.Network.AllowAllUnixSockets, over.Network.AllowAllUnixSockets)
	setBool("network.allowLocalBinding", &out.Network.AllowLocalBinding, over.Network.AllowLocalBinding)
	setBool("network.strictAllowlist", &out.Network.StrictAllowlist, over.Network.StrictAllowlist)
	setBool("filesystem.allowGitConfig", &out.Filesystem.AllowGitConfig, over.Filesystem.AllowGitConfig)
	setBool("enableWeakerNestedSandbox", &out.EnableWeakerNestedSandbox, over.EnableWeakerNestedSandbox)
	setBool("enableWeakerNetworkIsolation", &out.EnableWeakerNetworkIsolation, over.EnableWeakerNetworkIsolation)
	setBool("allowPty", &out.AllowPty, over.AllowPty)
	setBool("srtMcp.allowPtrace", &out.SrtMCP.AllowPtrace, over.SrtMCP.AllowPtrace)
	setBool("srtMcp.sharedLauncherCaches", &out.SrtMCP.SharedLauncherCaches, over.SrtMCP.SharedLauncherCaches)
	for _, l := range []struct{ dst, v **int }{
		{&out.SrtMCP.Limits.Processes, &over.SrtMCP.Limits.Processes},
		{&out.SrtMCP.Limits.MemoryMB, &over.SrtMCP.Limits.MemoryMB},
		{&out.SrtMCP.Limits.TmpMB, &over.SrtMCP.Limits.TmpMB},
	} {
		if *l.v != nil {
			*l.dst = *l.v
		}
	}
	if over.MandatoryDenySearchDepth != nil {
		out.MandatoryDenySearchDepth = over.MandatoryDenySearchDepth
	}
	if over.MCP.Pin != nil {
		out.MCP.Pin = over.MCP.Pin
	}
	out.files = join(base.files, over.files)
	out.set = map[string]bool{}
	for k := range base.set {
		out.set[k] = true
	}
	for k := range over.set {
		out.set[k] = true
	}
	return &out
}

// ToolAllowed applies mcp.tools: deny wins; with an allow list, only
// matching tools pass. It returns the pattern that decided.
func (m MCPSettings) ToolAllowed(name string) (bool, string) {
	for _, g := range m.ToolsDeny {
		if ok, _ := path.Match(g, name); ok {
			return false, "mcp.tools.deny: " + g
		}
	}
	if len(m.ToolsAllow) == 0 {
		return true, ""
	}
	for _, g := range m.ToolsAllow {
		if ok, _ := path.Match(g, name); ok {
			return true, "mcp.tools.allow: " + g
		}
	}
	return false, "not in mcp.tools.allow"
}

// PinEnabled is mcp.pin, on unless turned off.
func (m MCPSettings) PinEnabled() bool { return m.Pin == nil || *m.Pin }
