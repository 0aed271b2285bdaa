//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The attacks in this file go after srt-mcp's own files and the user's
// other credentials: a server that can rewrite the settings of its next
// launch, or read the tokens other MCP servers were given, has escaped
// without touching the kernel.

const escalated = `{"network": {"allowedDomains": ["*"]}, "filesystem": {"allowWrite": ["/"]}}`

// TestSettingsFileInProjectCannotBeRewritten: srt-mcp is started with
// --settings ./srt.json from the project, which is writable. The server
// rewrites srt.json to allow every host and the whole disk; the next
// launch must still run under the original policy.
func TestSettingsFileInProjectCannotBeRewritten(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		const original = `{"filesystem": {"allowWrite": ["."]}}`
		settings := w.Write(t, "home/project/srt.json", original)
		s := w.Connect(t, "--settings", "./srt.json")
		s.MustBlock(t, "rewrite the settings file in use", "write_file", map[string]any{"path": settings, "content": escalated})
		if b, _ := os.ReadFile(settings); string(b) != original {
			t.Fatalf("ESCAPE: the settings file on the host now reads %q", b)
		}
		// Replacing it by a rename is the same attack with another call.
		if out, status := s.Run(t, "sh", "-c", "printf '%s' '"+escalated+"' > evil.json && mv evil.json srt.json"); status == 0 {
			t.Errorf("ESCAPE: replacing srt.json by a rename succeeded: %s", out)
		}
		if b, _ := os.ReadFile(settings); string(b) != original {
			t.Fatalf("ESCAPE: the settings file on the host now reads %q", b)
		}
		// The next launch runs under the original policy: the home stays
		// read-only.
		s2 := w.Connect(t, "--settings", "./srt.json")
		s2.MustBlock(t, "write the home after the settings attack", "write_file", map[string]any{"path": filepath.Join(w.Home, "owned"), "content": "x"})
	})
}

// TestUserSettingsCannotBeRewritten: the user made the home writable in
// ~/.srt-settings.json (allowWrite ["~"]). The server rewrites that file to
// widen its next launch.
func TestUserSettingsCannotBeRewritten(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		const original = `{"filesystem": {"allowWrite": ["~"]}}`
		user := w.Write(t, "home/.srt-settings.json", original)
		s := w.Connect(t)
		// The home is writable, as the user asked.
		if text, failed := s.Call(t, "write_file", map[string]any{"path": filepath.Join(w.Home, "notes.txt"), "content": "x"}); failed {
			t.Fatalf("writing the home the user made writable: %s", text)
		}
		s.MustBlock(t, "rewrite ~/.srt-settings.json", "write_file", map[string]any{"path": user, "content": escalated})
		if b, _ := os.ReadFile(user); string(b) != original {
			t.Fatalf("ESCAPE: ~/.srt-settings.json on the host now reads %q", b)
		}
		// srt-mcp's state (pins, traces, the digest key) is out of reach too.
		state := filepath.Join(w.Home, ".local", "state", "srt-mcp")
		s.MustBlock(t, "plant a file in srt-mcp's state directory", "write_file", map[string]any{"path": filepath.Join(state, "digest.key"), "content": "x"})
	})
}

// TestMissingUserSettingsCannotBeCreated: with a writable home and no
// ~/.srt-settings.json, the server creates one; the next launch without
// --settings would read it. Passes only with the seccomp broker that
// refuses creating protected paths (a bind mount cannot protect a file
// that does not exist without creating a placeholder in the user's home).
func TestMissingUserSettingsCannotBeCreated(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		settings := w.Settings(t, `{"filesystem": {"allowWrite": ["~"]}}`)
		s := w.Connect(t, "--settings", settings)
		user := filepath.Join(w.Home, ".srt-settings.json")
		s.MustBlock(t, "create ~/.srt-settings.json", "write_file", map[string]any{"path": user, "content": escalated})
		if _, err := os.Stat(user); err == nil {
			t.Errorf("ESCAPE: ~/.srt-settings.json was created on the host")
		}
	})
}

// TestClientConfigsAndCredentialsUnreadable: under the default policy the
// server reads the files where MCP clients keep the env (tokens) of every
// other server, and credential files that were not on the built-in list.
func TestClientConfigsAndCredentialsUnreadable(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		const canary = "CANARY-TOKEN-8d1f0c"
		files := []string{
			".claude.json",
			".config/Claude/claude_desktop_config.json",
			".cursor/mcp.json",
			".codeium/windsurf/mcp_config.json",
			".config/Code/User/mcp.json",
			".config/zed/settings.json",
			".codex/config.toml",
			".cache/huggingface/token",
			".config/rclone/rclone.conf",
			".bash_history",
			".zsh_history",
			".python_history",
			".local/share/fish/fish_history",
			// Found readable by an outside review of common CLIs.
			".m2/settings.xml",
			".gradle/gradle.properties",
			".yarnrc.yml",
			".config/sops/age/keys.txt",
			".config/glab-cli/config.yml",
			".config/github-copilot/hosts.json",
			".pulumi/credentials.json",
			".s3cfg",
			".terraformrc",
			".minikube/profiles/minikube/client.key",
			".vercel/auth.json",
		}
		for _, f := range files {
			w.Write(t, filepath.Join("home", f), canary)
		}
		s := w.Connect(t)
		for _, f := range files {
			text := s.MustBlock(t, "read ~/"+f, "read_file", map[string]any{"path": filepath.Join(w.Home, f)})
			if strings.Contains(text, canary) {
				t.Errorf("ESCAPE: ~/%s was read", f)
			}
		}
		// A shell inside finds nothing either (cat follows another path
		// through libc than the probe's Go code).
		out, _ := s.Run(t, "sh", "-c", "cat ~/.claude.json ~/.cache/huggingface/token 2>&1")
		if strings.Contains(out, canary) {
			t.Errorf("ESCAPE: cat read a client config: %s", out)
		}
	})
}

// TestTraceDirInProjectIsReadOnly: with --trace-dir inside the writable
// project, the server forges or erases its own violation trace.
func TestTraceDirInProjectIsReadOnly(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		traces := w.Mkdir(t, "home/project/traces")
		s := w.Connect(t, "--trace-dir", traces)
		s.MustBlock(t, "write a forged trace", "write_file", map[string]any{"path": filepath.Join(traces, "srt-mcp-probe.jsonl"), "content": "{}\n"})
	})
}

// TestSettingsSymlinkCannotBeRepointed: --settings ./srt.json is a symlink
// in the writable project to a file outside it. The target is read-only,
// so the server re-points the link to a policy of its own. A bind mount
// cannot protect a symlink itself: passes only with the seccomp broker
// that refuses unlinking, renaming or replacing protected paths.
func TestSettingsSymlinkCannotBeRepointed(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		target := w.Settings(t, `{"filesystem": {"allowWrite": ["."]}}`)
		link := filepath.Join(w.Project, "srt.json")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		os.Lchown(link, u.UID, u.GID)
		s := w.Connect(t, "--settings", "./srt.json")
		if !strings.Contains(s.Stderr(), "reached through a symlink") {
			t.Errorf("no notice about the symlinked settings file:\n%s", s.Stderr())
		}
		out, status := s.Run(t, "sh", "-c", "printf '%s' '"+escalated+"' > evil.json && ln -sfn evil.json srt.json")
		if got, _ := os.Readlink(link); got != target {
			t.Errorf("ESCAPE: the settings link now points to %q (status %d: %s)", got, status, out)
		}
	})
}
