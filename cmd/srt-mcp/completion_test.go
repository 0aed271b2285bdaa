package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionAndManCoverEveryFlag: the scripts and the man page are
// generated from the commands, so every visible flag of every command is
// in each of them.
func TestCompletionAndManCoverEveryFlag(t *testing.T) {
	root, subs := describeAll()
	if len(subs) < 10 {
		t.Fatalf("only %d sub-commands described", len(subs))
	}
	outputs := map[string]string{
		"bash": bashCompletion(root, subs),
		"zsh":  zshCompletion(root, subs),
		"fish": fishCompletion(root, subs),
		"man":  manPage(root, subs, "v1.2.3"),
	}
	for _, d := range append([]cmdDoc{root}, subs...) {
		for _, f := range d.flags {
			for name, out := range outputs {
				want := "--" + f.long
				switch {
				case name == "fish" && len(f.long) == 1:
					want = "-o " + f.long
				case name == "fish":
					want = "-l " + f.long
				case name == "man":
					want = `\-\-` + strings.ReplaceAll(f.long, "-", `\-`)
					if len(f.long) == 1 {
						want = `\-` + f.long
					}
				case len(f.long) == 1:
					want = "-" + f.long
				}
				if !strings.Contains(out, want) {
					t.Errorf("%s: %s has no %s", name, d.name, want)
				}
			}
		}
		if d.name != "" && !strings.Contains(outputs["man"], `.SS "srt\-mcp `+strings.ReplaceAll(d.name, "-", `\-`)+`"`) {
			t.Errorf("man: no section for %s", d.name)
		}
	}
}

// TestBashCompletion loads the script into bash and completes as a user
// would.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	root, subs := describeAll()
	script := filepath.Join(t.TempDir(), "srt-mcp.bash")
	os.WriteFile(script, []byte(bashCompletion(root, subs)), 0o644)
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"srt-mcp", "verify", "--d"}, "--dry-run"},
		{[]string{"srt-mcp", "verify", "--w"}, "--wide"},
		{[]string{"srt-mcp", "--se"}, "--settings"},
		{[]string{"srt-mcp", "-s", "x.json", "--de"}, "--debug"},
		{[]string{"srt-mcp", "sel"}, "selftest"}, // then commands on PATH: a server's name
		{[]string{"srt-mcp", "completion", ""}, "bash zsh fish"},
		{[]string{"srt-mcp", "help", "tra"}, "traces"},
		{[]string{"srt-mcp", "traces", "--min"}, "--min-count"},
	} {
		words := make([]string, len(tc.words))
		for i, w := range tc.words {
			words[i] = "'" + w + "'"
		}
		sh := "source " + script + "; COMP_WORDS=(" + strings.Join(words, " ") + "); COMP_CWORD=" +
			"$((${#COMP_WORDS[@]} - 1)); _srt_mcp; echo \"${COMPREPLY[*]}\""
		out, err := exec.Command("bash", "-c", sh).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want && !strings.HasPrefix(got, tc.want+" ") {
			t.Errorf("%q: got %q (%v), want %q", tc.words, out, err, tc.want)
		}
	}
}

// TestZshAndFishCompletionParse: the scripts are valid for their shells
// (when the shell is installed).
func TestZshAndFishCompletionParse(t *testing.T) {
	root, subs := describeAll()
	for shell, script := range map[string]string{"zsh": zshCompletion(root, subs), "fish": fishCompletion(root, subs)} {
		if _, err := exec.LookPath(shell); err != nil {
			t.Logf("no %s: not checked", shell)
			continue
		}
		f := filepath.Join(t.TempDir(), "srt-mcp."+shell)
		os.WriteFile(f, []byte(script), 0o644)
		if out, err := exec.Command(shell, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", shell, err, out)
		}
	}
}

// TestFishCompletion completes with fish itself (when installed).
func TestFishCompletion(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("no fish")
	}
	root, subs := describeAll()
	script := filepath.Join(t.TempDir(), "srt-mcp.fish")
	os.WriteFile(script, []byte(fishCompletion(root, subs)), 0o644)
	for line, want := range map[string]string{
		"srt-mcp verify --d":   "--dry-run\tshow the change --fix would make, as a diff, and write nothing",
		"srt-mcp sel":          "selftest\tRuns probes inside the sandbox built from the policy",
		"srt-mcp --sett":       "--settings\tread srt settings from FILE",
		"srt-mcp completion z": "zsh",
	} {
		out, err := exec.Command("fish", "-c", "source "+script+"; complete -C '"+line+"'").CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || !strings.HasPrefix(got, want) {
			t.Errorf("%q: got %q (%v), want %q", line, got, err, want)
		}
	}
}
