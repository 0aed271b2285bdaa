//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Escape tests for the protected paths: a server in a writable project
// tries to make the user's own git (or editor, or agent) run its code
// later, outside the sandbox. Each attack runs for real inside the
// sandbox; afterwards a real git runs on the host, as the same user, and
// the marker file the attacker's config or hook would create must not
// appear.

// gitWorld is a world whose project is a git repository, and the marker
// the attacks try to have created on the host.
func gitWorld(t *testing.T, u User) (*World, string) {
	t.Helper()
	w := NewWorld(t, u)
	w.Git(t)
	return w, filepath.Join(w.Root, "MARKER")
}

// evilConfig makes any git command that reads it run `touch marker`.
func evilConfig(marker string) string {
	return "[core]\n\trepositoryformatversion = 0\n\tfsmonitor = touch " + marker + " #\n\thooksPath = /nonexistent\n[alias]\n\tstatus = !touch " + marker + "\n"
}

func evilHook(marker string) string { return "#!/bin/sh\ntouch " + marker + "\n" }

// hostGit runs git status and git commit on the host in dir, as the
// world's user, and fails the test if the marker appeared.
func hostGit(t *testing.T, w *World, dir, marker string) {
	t.Helper()
	for _, argv := range [][]string{
		{"git", "status"},
		{"git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "host"},
	} {
		out, _ := w.Command(dir, argv...).CombinedOutput()
		if _, err := os.Lstat(marker); err == nil {
			t.Fatalf("ESCAPE: %s on the host ran the server's code (marker created)\n%s", strings.Join(argv, " "), out)
		}
	}
}

// attack runs the steps inside the sandbox and wants them stopped at step
// blockedAt (0: at any step).
func attack(t *testing.T, s *Session, blockedAt int, ops ...[]string) string {
	t.Helper()
	text := s.MustBlock(t, "the attack", "fs_ops", map[string]any{"ops": ops})
	t.Log(text)
	if blockedAt > 0 && !strings.HasPrefix(text, "step "+itoa(blockedAt)+" ") {
		t.Errorf("blocked at the wrong step (want step %d): %s", blockedAt, text)
	}
	return text
}

func op(args ...string) []string { return args }

// TestProtectedParentRename (issue 11, 4a): renaming .git (or another
// protected path's parent) away and building a new one in its place.
func TestProtectedParentRename(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w, marker := gitWorld(t, u)
		w.Write(t, "home/project/.claude/settings.json", `{"user":"settings"}`)
		w.Write(t, "home/project/a/b/.vscode/tasks.json", `{"user":"tasks"}`)
		w.Write(t, "home/project/evil/HEAD", "ref: refs/heads/master\n")
		w.Write(t, "home/project/evil/config", evilConfig(marker))
		w.Mkdir(t, "home/project/evil/objects")
		w.Mkdir(t, "home/project/evil/refs")
		s := w.Connect(t)
		P := w.Project
		t.Run("git dir", func(t *testing.T) {
			attack(t, s, 1, op("rename", P+"/.git", P+"/.git-old"), op("mkdir", P+"/.git"),
				op("write", P+"/.git/HEAD", "ref: refs/heads/master\n"), op("mkdir", P+"/.git/objects"),
				op("mkdir", P+"/.git/refs"), op("write", P+"/.git/config", evilConfig(marker)))
		})
		t.Run("exchange git dir", func(t *testing.T) {
			attack(t, s, 1, op("exchange", P+"/evil", P+"/.git"))
		})
		t.Run("hooks dir", func(t *testing.T) {
			attack(t, s, 1, op("rename", P+"/.git/hooks", P+"/.git/hooks-old"), op("mkdir", P+"/.git/hooks"),
				op("write", P+"/.git/hooks/pre-commit", evilHook(marker)))
		})
		t.Run("claude dir", func(t *testing.T) {
			attack(t, s, 1, op("rename", P+"/.claude", P+"/claude-old"), op("mkdir", P+"/.claude"),
				op("write", P+"/.claude/settings.json", `{"evil":true}`))
		})
		t.Run("nested vscode dir", func(t *testing.T) {
			attack(t, s, 1, op("rename", P+"/a/b/.vscode", P+"/a/b/vscode-old"), op("mkdir", P+"/a/b/.vscode"),
				op("write", P+"/a/b/.vscode/tasks.json", `{"evil":true}`))
		})
		hostGit(t, w, P, marker)
		for rel, want := range map[string]string{".claude/settings.json": `{"user":"settings"}`, "a/b/.vscode/tasks.json": `{"user":"tasks"}`} {
			if b, err := os.ReadFile(filepath.Join(P, rel)); err != nil || string(b) != want {
				t.Errorf("%s after the attack: %q, %v", rel, b, err)
			}
		}
	})
}

// TestProtectedCommondir (issue 11, 4b): .git/commondir redirects config
// and hooks to a directory the server built.
func TestProtectedCommondir(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w, marker := gitWorld(t, u)
		s := w.Connect(t)
		P := w.Project
		attack(t, s, 5, op("mkdir", P+"/common"), op("mkdir", P+"/common/objects"), op("mkdir", P+"/common/refs"),
			op("write", P+"/common/config", evilConfig(marker)), op("write", P+"/.git/commondir", "../common\n"))
		attack(t, s, 1, op("write", P+"/.git/config.worktree", evilConfig(marker)))
		hostGit(t, w, P, marker)
		// Each refusal is reported like any denial, with the MCP call.
		// Reports are judged after the call is answered: wait for them.
		s.WaitStderr(t, 60*time.Second, func(stderr string) bool {
			for _, want := range []string{"denied openat " + P + "/.git/commondir", "mandatory deny: .git/commondir", "tools/call fs_ops"} {
				if !strings.Contains(stderr, want) {
					return false
				}
			}
			return true
		})
	})
}

// TestProtectedCreateMissing (issue 11, 5): protected files that do not
// exist yet, at any depth, with or without a .git.
func TestProtectedCreateMissing(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w, marker := gitWorld(t, u)
		w.Mkdir(t, "home/project/a/b/c/d/e/f")
		s := w.Connect(t)
		P := w.Project
		deep := P + "/a/b/c/d/e/f"
		for _, path := range []string{
			P + "/.git/hooks/pre-commit", P + "/.mcp.json", deep + "/.mcp.json", deep + "/.envrc",
			P + "/.claude/settings.json", deep + "/.claude/settings.json",
			deep + "/.vscode/tasks.json", P + "/.gitmodules", deep + "/.bashrc",
		} {
			t.Run(strings.TrimPrefix(path, w.Root), func(t *testing.T) {
				attack(t, s, 0, op("mkdir", filepath.Dir(path)), op("write", path, evilHook(marker)))
				if _, err := os.Lstat(path); err == nil {
					t.Errorf("ESCAPE: %s exists on the host", path)
				}
			})
		}
		t.Run("nested .git", func(t *testing.T) {
			attack(t, s, 1, op("mkdir", deep+"/.git"))
		})
		hostGit(t, w, P, marker)
		// Nothing was created in the user's tree to protect these paths.
		for _, p := range []string{P + "/.mcp.json", P + "/.claude", deep + "/.vscode", deep + "/.git"} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s exists: something was created in the user's tree", p)
			}
		}
	})
	ForEachUser(t, func(t *testing.T, u User) {
		// A project that is not a git repository yet.
		w := NewWorld(t, u)
		marker := filepath.Join(w.Root, "MARKER")
		s := w.Connect(t)
		P := w.Project
		attack(t, s, 1, op("mkdir", P+"/.git"), op("write", P+"/.git/HEAD", "ref: refs/heads/master\n"),
			op("write", P+"/.git/config", evilConfig(marker)))
		attack(t, s, 0, op("mkdir", P+"/g"), op("write", P+"/g/HEAD", "ref: refs/heads/master\n"),
			op("mkdir", P+"/g/objects"), op("mkdir", P+"/g/refs"), op("write", P+"/g/config", evilConfig(marker)),
			op("rename", P+"/g", P+"/.git"))
		hostGit(t, w, P, marker)
	})
}

// TestProtectedRoutes: every other way to the same files.
func TestProtectedRoutes(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w, marker := gitWorld(t, u)
		hook := evilHook(marker)
		cfg := evilConfig(marker)
		// A hook the user wrote but left non-executable: git skips it.
		os.WriteFile(filepath.Join(w.Project, ".git/hooks/post-commit"), []byte(hook), 0o644)
		w.Mkdir(t, "home/project/src")
		// A bare repository that was there before the sandbox (one the
		// server cannot build: HEAD outside .git is refused).
		w.Write(t, "home/project/hostbare/HEAD", "ref: refs/heads/master\n")
		w.Mkdir(t, "home/project/hostbare/objects")
		w.Mkdir(t, "home/project/hostbare/refs")
		w.chown(t, w.Root)
		s := w.Connect(t)
		P := w.Project
		cases := []struct {
			name    string
			blocked int
			ops     [][]string
		}{
			{"symlink then create through it", 2, [][]string{op("symlink", P+"/.git/hooks/pre-commit", P+"/x"), op("write", P+"/x", hook)}},
			{"hard link then write", 1, [][]string{op("link", P+"/.git/config", P+"/y"), op("write", P+"/y", cfg)}},
			{"chmod +x an existing hook", 1, [][]string{op("chmod", P+"/.git/hooks/post-commit", "755")}},
			{"fchmod on a read-only descriptor", 1, [][]string{op("fchmod_ro", P+"/.git/hooks/post-commit", "755")}},
			{"O_TMPFILE in hooks", 1, [][]string{op("tmpfile_link", P+"/.git/hooks", P+"/.git/hooks/pre-commit", hook)}},
			{"O_TMPFILE then linkat into hooks", 1, [][]string{op("tmpfile_link", P+"/src", P+"/.git/hooks/pre-commit", hook)}},
			{"rename a file into hooks", 3, [][]string{op("mkdir", P+"/evil"), op("write", P+"/evil/pre-commit", hook), op("rename", P+"/evil/pre-commit", P+"/.git/hooks/pre-commit")}},
			{"exchange a directory with hooks", 1, [][]string{op("exchange", P+"/evil", P+"/.git/hooks")}},
			{"dirfd and ..", 1, [][]string{op("dirfd_write", P+"/src", "../.git/hooks/pre-commit", hook)}},
			{"relative path with ..", 1, [][]string{op("write", "src/../.git/hooks/pre-commit", hook)}},
			{"reopen a read-only descriptor for writing", 1, [][]string{op("reopen_write", P+"/.git/config", cfg)}},
			{"openat2", 1, [][]string{op("openat2_write", P+"/.git/hooks/pre-commit", hook)}},
			{"unlink then recreate config", 1, [][]string{op("unlink", P+"/.git/config"), op("write", P+"/.git/config", cfg)}},
			{"truncate config", 1, [][]string{op("truncate", P+"/.git/config")}},
			{"mknod a hook", 1, [][]string{op("mknod", P+"/.git/hooks/pre-commit")}},
			{"info/attributes", 1, [][]string{op("write", P+"/.git/info/attributes", "* filter=evil\n")}},
			{"worktrees", 1, [][]string{op("mkdir", P+"/.git/worktrees")}},
			{"modules", 1, [][]string{op("mkdir", P+"/.git/modules")}},
			{"gitdir file in a subdirectory", 2, [][]string{op("mkdir", P+"/sub"), op("write", P+"/sub/.git", "gitdir: ../gd\n")}},
			{"implicit bare repository", 4, [][]string{op("mkdir", P+"/bare"), op("mkdir", P+"/bare/objects"), op("mkdir", P+"/bare/refs"),
				op("write", P+"/bare/HEAD", "ref: refs/heads/master\n"), op("write", P+"/bare/config", cfg)}},
			{"implicit bare repository, config first", 5, [][]string{op("mkdir", P+"/bare2"), op("mkdir", P+"/bare2/objects"), op("mkdir", P+"/bare2/refs"),
				op("write", P+"/bare2/config", cfg), op("write", P+"/bare2/HEAD", "ref: refs/heads/master\n")}},
			{"hooks of a bare repository", 1, [][]string{op("mkdir", P+"/hostbare/hooks")}},
			{"config of a bare repository", 1, [][]string{op("write", P+"/hostbare/config", cfg)}},
		}
		if runtime.GOARCH == "amd64" {
			cases = append(cases, []struct {
				name    string
				blocked int
				ops     [][]string
			}{
				{"legacy open", 1, [][]string{op("legacy_open", P+"/.git/hooks/pre-commit", hook)}},
				{"legacy creat", 1, [][]string{op("legacy_creat", P+"/.git/hooks/pre-commit", hook)}},
				{"legacy rename", 1, [][]string{op("legacy_rename", P+"/.git", P+"/old-git")}},
				{"legacy link", 1, [][]string{op("legacy_link", P+"/.git/config", P+"/z")}},
				{"legacy symlink", 1, [][]string{op("legacy_symlink", P+"/common", P+"/.git/commondir")}},
				{"legacy chmod", 1, [][]string{op("legacy_chmod", P+"/.git/hooks/post-commit", "755")}},
				{"legacy mkdir", 1, [][]string{op("legacy_mkdir", P+"/.vscode")}},
				{"legacy unlink", 1, [][]string{op("legacy_unlink", P+"/.git/config")}},
			}...)
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { attack(t, s, c.blocked, c.ops...) })
		}
		hostGit(t, w, P, marker)
		for _, dir := range []string{P + "/sub", P + "/bare", P + "/bare2"} {
			if _, err := os.Stat(dir); err == nil {
				hostGit(t, w, dir, marker)
			}
		}
		if st, err := os.Stat(filepath.Join(P, ".git/hooks/post-commit")); err != nil {
			t.Error(err)
		} else if st.Mode()&0o111 != 0 {
			t.Errorf("ESCAPE: post-commit hook made executable: %v", st.Mode())
		}
	})
}

// TestProtectedRace: a second thread flips the path buffer between the
// supervisor's read and the kernel's; the broker never lets the kernel
// read it again.
func TestProtectedRace(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w, marker := gitWorld(t, u)
		s := w.Connect(t)
		s.MustBlock(t, "race a path buffer against the check", "race_create", map[string]any{
			"protected": ".git/hooks/pre-commit", "decoy": "decoy-file", "tries": 5000})
		hostGit(t, w, w.Project, marker)
	})
}

// TestProtectedNormalWork: ordinary work in the project is unaffected,
// including git add and commit of the project's own repository.
func TestProtectedNormalWork(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w, _ := gitWorld(t, u)
		s := w.Connect(t)
		P := w.Project
		text, failed := s.Call(t, "fs_ops", map[string]any{"ops": [][]string{
			op("mkdir", P+"/d"), op("write", P+"/d/a", "a"), op("rename", P+"/d/a", P+"/d/b"),
			op("link", P+"/d/b", P+"/d/c"), op("symlink", "b", P+"/d/s"), op("chmod", P+"/d/b", "600"),
			op("unlink", P+"/d/c"), op("write", "d/rel", "r"), op("dirfd_write", P+"/d", "../d/e", "e"),
			op("tmpfile_link", P+"/d", P+"/d/t", "t"), op("exchange", P+"/d/e", P+"/d/t"),
			op("reopen_write", P+"/d/e", "e2"), op("truncate", P+"/d/rel"), op("mkdir", P+"/d/sub"),
			op("rmdir", P+"/d/sub"), op("write", P+"/d/config", "not git"), op("write", P+"/.git/info/exclude", "*.log\n"),
		}})
		if failed || !strings.HasPrefix(text, "ESCAPED:") {
			t.Fatalf("ordinary file operations failed: %s", text)
		}
		if b, _ := os.ReadFile(P + "/d/e"); string(b) != "e2" {
			t.Errorf("d/e = %q", b)
		}
		if st, err := os.Stat(P + "/d/b"); err != nil || st.Mode().Perm() != 0o600 || statUID(st) != u.UID {
			t.Errorf("d/b: %v %v", st, err)
		}
		out, status := s.Run(t, "sh", "-c", `umask 027 && echo hi > m.txt && echo out > /dev/stdout && echo null > /dev/null && mkdir -p n/o/p && mv m.txt n/o/p/ &&
git -c user.name=s -c user.email=s@example.com add -A && git -c user.name=s -c user.email=s@example.com commit -q -m inside && git log --oneline | wc -l`)
		if status != 0 || !strings.Contains(out, "out") || !strings.HasSuffix(strings.TrimSpace(out), "2") {
			t.Fatalf("shell and git inside: status %d\n%s", status, out)
		}
		// A FIFO opened for writing before its reader: the broker must not
		// wait for the reader (the reader's own open would wait behind it).
		out, status = s.Run(t, "sh", "-c", `mkfifo f && { echo via-fifo > f & } && touch other && cat f && wait`)
		if status != 0 || !strings.Contains(out, "via-fifo") {
			t.Errorf("fifo: status %d\n%s", status, out)
		}
		// The broker applies the caller's umask, also after the process
		// changes it (the broker caches it per thread).
		if _, err := exec.LookPath("python3"); err == nil {
			out, status = s.Run(t, "python3", "-c", `import os
os.umask(0o022); open("u1", "w").close()
os.umask(0o077); open("u2", "w").close()
os.umask(0o002); os.mkdir("u3")`)
			if status != 0 {
				t.Errorf("python umask: %d %s", status, out)
			}
			for name, want := range map[string]os.FileMode{"u1": 0o644, "u2": 0o600, "u3": 0o775} {
				if st, err := os.Stat(filepath.Join(P, name)); err != nil {
					t.Error(err)
				} else if st.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", name, st.Mode().Perm(), want)
				}
			}
		}
		st, err := os.Stat(P + "/n/o/p/m.txt")
		if err != nil || st.Mode().Perm() != 0o640 || statUID(st) != u.UID {
			t.Errorf("file created inside with umask 027: %v %v", st, err)
		}
		if out, err := w.Command(P, "git", "log", "--oneline", "-1").CombinedOutput(); err != nil || !strings.Contains(string(out), "inside") {
			t.Errorf("host git log: %v %s", err, out)
		}
	})
}

// TestProtectedPolicyPath: an absolute protected path from the policy
// (~/.srt-settings.json once the home is writable) cannot be created,
// written, replaced by a rename, a link or a symlink, whether it exists or
// not, and its directory's other files stay ordinary.
func TestProtectedPolicyPath(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		settings := w.Settings(t, `{"filesystem": {"allowWrite": ["~"]}}`)
		s := w.Connect(t, "--settings", settings)
		H := w.Home
		evil := `{"filesystem": {"allowWrite": ["/"]}}`
		attack(t, s, 1, op("write", H+"/.srt-settings.json", evil))
		attack(t, s, 2, op("write", H+"/evil.json", evil), op("rename", H+"/evil.json", H+"/.srt-settings.json"))
		attack(t, s, 1, op("symlink", H+"/evil.json", H+"/.srt-settings.json"))
		attack(t, s, 1, op("link", H+"/evil.json", H+"/.srt-settings.json"))
		if _, err := os.Lstat(H + "/.srt-settings.json"); err == nil {
			t.Fatal("ESCAPE: ~/.srt-settings.json was created")
		}
		w.Write(t, "home/.srt-settings.json", `{}`)
		attack(t, s, 1, op("write", H+"/.srt-settings.json", evil))
		attack(t, s, 1, op("unlink", H+"/.srt-settings.json"))
		if b, _ := os.ReadFile(H + "/.srt-settings.json"); string(b) != `{}` {
			t.Errorf("ESCAPE: ~/.srt-settings.json is now %q", b)
		}
		if text, failed := s.Call(t, "fs_ops", map[string]any{"ops": [][]string{op("write", H+"/notes.txt", "x"), op("rename", H+"/notes.txt", H+"/notes2.txt")}}); failed {
			t.Errorf("ordinary files in the writable home: %s", text)
		}
	})
}

// TestProtectedHooksPath: a project whose git config points core.hooksPath
// into the project (husky's .husky) runs those hooks on the host; the
// server must not be able to write or create them.
func TestProtectedHooksPath(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w, marker := gitWorld(t, u)
		if out, err := w.Command(w.Project, "git", "config", "core.hooksPath", ".husky").CombinedOutput(); err != nil {
			t.Fatalf("git config: %v %s", err, out)
		}
		w.Write(t, "home/project/.husky/pre-commit", "#!/bin/sh\nexit 0\n")
		os.Chmod(filepath.Join(w.Project, ".husky/pre-commit"), 0o755)
		s := w.Connect(t)
		P := w.Project
		attack(t, s, 1, op("write", P+"/.husky/pre-commit", evilHook(marker)))
		attack(t, s, 1, op("write", P+"/.husky/post-commit", evilHook(marker)))
		attack(t, s, 1, op("rename", P+"/.husky", P+"/husky-old"))
		hostGit(t, w, P, marker)
	})
}

// TestProtectedProcSelf: writes through /proc (/dev/stdout is
// /proc/self/fd/1) reach the caller's own descriptors, in the sandbox's
// own /proc and with the host's /proc bound in (enableWeakerNestedSandbox),
// and never another process's: the broker opens them with its own
// credentials, which reach further than the server's.
func TestProtectedProcSelf(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		for _, weaker := range []bool{false, true} {
			w := NewWorld(t, u)
			settings := w.Settings(t, `{"enableWeakerNestedSandbox": `+map[bool]string{false: "false", true: "true"}[weaker]+`}`)
			s := w.Connect(t, "--settings", settings)
			out, status := s.Run(t, "sh", "-c", `echo via-dev-stdout > /dev/stdout && echo via-thread-self > /proc/thread-self/fd/1 && echo "$$" > own-pid`)
			if status != 0 || !strings.Contains(out, "via-dev-stdout") || !strings.Contains(out, "via-thread-self") {
				t.Errorf("weaker=%v: writes to the caller's own descriptors: status %d\n%s", weaker, status, out)
			}
			// PID 1 inside (bwrap's init) or on the host: not the caller.
			out, status = s.Run(t, "sh", "-c", `echo x > /proc/1/fd/1`)
			if status == 0 {
				t.Errorf("ESCAPE (weaker=%v): wrote to /proc/1/fd/1: %s", weaker, out)
			}
		}
	})
}
