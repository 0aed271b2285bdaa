package clientconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/srt-mcp/srt-mcp/internal/textdiff"
	"github.com/tailscale/hujson"
)

// rewrite returns the file's content with every unsandboxed stdio entry
// running through srt-mcp, and the entries it changed. Everything else (env,
// cwd, other keys, comments, formatting) is left as it was. profileFor
// picks a built-in profile for an entry ("" for none).
func (f *File) rewrite(srtMCP string, profileFor func(*Server) string) ([]byte, []*Server, error) {
	var fix []*Server
	for _, s := range f.Servers {
		if fixable(s) {
			fix = append(fix, s)
		}
	}
	if len(fix) == 0 {
		return f.Data, nil, nil
	}
	var out []byte
	var err error
	if f.Format == "toml" {
		out, err = f.rewriteTOML(fix, srtMCP, profileFor)
	} else {
		out, err = f.rewriteJSON(fix, srtMCP, profileFor)
	}
	if err != nil {
		return nil, nil, err
	}
	// The result must parse and say what we meant.
	check, err := parse(f.Path, f.Client, out)
	if err != nil {
		return nil, nil, fmt.Errorf("rewritten file does not parse (nothing written): %w", err)
	}
	for _, s := range fix {
		cmd, args := wrappedCommand(s, srtMCP, profileFor(s))
		found := false
		for _, c := range check.Servers {
			if c.pointer == s.pointer && c.Command == cmd && slices.Equal(c.Args, args) {
				found = true
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("rewriting %s did not give the expected entry (nothing written)", s.Name)
		}
	}
	return out, fix, nil
}

func (f *File) rewriteJSON(fix []*Server, srtMCP string, profileFor func(*Server) string) ([]byte, error) {
	v, err := hujson.Parse(slices.Clone(f.Data))
	if err != nil {
		return nil, err
	}
	type op struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	// hujson keeps a patch value's own spacing: write arrays the way
	// people do, ["a", "b"], rather than Marshal's ["a","b"].
	str := func(v string) json.RawMessage { b, _ := json.Marshal(v); return b }
	list := func(v []string) json.RawMessage {
		parts := make([]string, len(v))
		for i, a := range v {
			parts[i] = string(str(a))
		}
		return json.RawMessage("[" + strings.Join(parts, ", ") + "]")
	}
	var ops []op
	for _, s := range fix {
		cmd, args := wrappedCommand(s, srtMCP, profileFor(s))
		base := s.pointer
		if s.objectCmd {
			base += "/command"
			ops = append(ops, op{"replace", base + "/path", str(cmd)})
		} else {
			ops = append(ops, op{"replace", base + "/command", str(cmd)})
		}
		// "add" replaces an existing member too (RFC 6902).
		ops = append(ops, op{"add", base + "/args", list(args)})
	}
	var patch strings.Builder
	patch.WriteString("[")
	for i, o := range ops {
		if i > 0 {
			patch.WriteString(",")
		}
		path, _ := json.Marshal(o.Path)
		fmt.Fprintf(&patch, `{"op":%q,"path":%s,"value":%s}`, o.Op, path, o.Value)
	}
	patch.WriteString("]")
	if err := v.Patch([]byte(patch.String())); err != nil {
		return nil, err
	}
	return v.Pack(), nil
}

// rewriteTOML edits the command and args lines of each [mcp_servers.NAME]
// table in place, leaving every other line as it was. Forms it cannot edit
// safely (inline tables, dotted keys) are refused.
func (f *File) rewriteTOML(fix []*Server, srtMCP string, profileFor func(*Server) string) ([]byte, error) {
	lines := strings.SplitAfter(string(f.Data), "\n")
	for _, s := range fix {
		start := -1
		for i, l := range lines {
			if h := strings.TrimSpace(stripComment(l)); h == "[mcp_servers."+tomlKey(s.Name)+"]" || h == "[mcp_servers."+quoteTOML(s.Name)+"]" {
				start = i
				break
			}
		}
		if start < 0 {
			return nil, fmt.Errorf("%s: cannot find a [mcp_servers.%s] table to edit; only that form is rewritten", s.Name, tomlKey(s.Name))
		}
		end := len(lines)
		for i := start + 1; i < len(lines); i++ {
			if strings.HasPrefix(strings.TrimSpace(lines[i]), "[") {
				end = i
				break
			}
		}
		cmd, args := wrappedCommand(s, srtMCP, profileFor(s))
		cmdLine := "command = " + quoteTOML(cmd) + "\n"
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = quoteTOML(a)
		}
		argsLine := "args = [" + strings.Join(quoted, ", ") + "]\n"
		cmdAt, argsFrom, argsTo := -1, -1, -1
		for i := start + 1; i < end; i++ {
			key := strings.TrimSpace(strings.SplitN(lines[i], "=", 2)[0])
			switch key {
			case "command":
				cmdAt = i
			case "args":
				argsFrom, argsTo = i, arrayEnd(lines, i, end)
				if argsTo < 0 {
					return nil, fmt.Errorf("%s: cannot find the end of args", s.Name)
				}
			}
		}
		if cmdAt < 0 {
			return nil, fmt.Errorf("%s: no command line in its table", s.Name)
		}
		var out []string
		for i := 0; i < len(lines); i++ {
			switch {
			case i == cmdAt:
				out = append(out, indentOf(lines[i])+cmdLine)
				if argsFrom < 0 {
					out = append(out, indentOf(lines[i])+argsLine)
				}
			case i == argsFrom:
				out = append(out, indentOf(lines[i])+argsLine)
				i = argsTo
			default:
				out = append(out, lines[i])
			}
		}
		lines = out
	}
	result := strings.Join(lines, "")
	var probe map[string]any
	if _, err := toml.Decode(result, &probe); err != nil {
		return nil, err
	}
	return []byte(result), nil
}

// arrayEnd finds the line where the array value starting on line i closes.
func arrayEnd(lines []string, i, end int) int {
	depth, inStr := 0, byte(0)
	started := false
	for j := i; j < end; j++ {
		l := lines[j]
		if j == i {
			l = strings.SplitN(l, "=", 2)[1]
		}
		for k := 0; k < len(l); k++ {
			c := l[k]
			switch {
			case inStr != 0:
				if c == '\\' && inStr == '"' {
					k++
				} else if c == inStr {
					inStr = 0
				}
			case c == '"' || c == '\'':
				inStr = c
			case c == '#':
				k = len(l)
			case c == '[':
				depth++
				started = true
			case c == ']':
				depth--
				if started && depth == 0 {
					return j
				}
			}
		}
		if !started {
			return j // not an array: a single-line value
		}
	}
	return -1
}

func stripComment(l string) string {
	if i := strings.IndexByte(l, '#'); i >= 0 && !strings.ContainsAny(l[:i], `"'`) {
		return l[:i]
	}
	return l
}

func indentOf(l string) string { return l[:len(l)-len(strings.TrimLeft(l, " \t"))] }

func tomlKey(name string) string {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return quoteTOML(name)
		}
	}
	return name
}

// quoteTOML renders a TOML basic string; JSON string escapes are a subset
// of TOML's.
func quoteTOML(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), `\u0026`, "&")
}

// writeAtomic replaces path with data: the old content is kept in a backup
// next to it, and the new content appears at once (rename) with the old
// file's permissions. It returns the backup's path.
//
// A config reached through a symlink (a dotfiles manager's link into its
// repository) is written at the link's target: renaming over the link
// would replace it with a regular file and leave the target, the copy the
// user keeps, unfixed.
func writeAtomic(path string, old, data []byte) (string, error) {
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	backup := path + ".srt-mcp.bak"
	if _, err := os.Stat(backup); err == nil {
		backup = fmt.Sprintf("%s.srt-mcp.%s.bak", path, time.Now().Format("20060102T150405"))
	}
	if err := os.WriteFile(backup, old, st.Mode().Perm()); err != nil {
		return "", fmt.Errorf("writing the backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".srt-mcp-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return backup, os.Rename(tmp.Name(), path)
}

// unifiedDiff renders a unified diff of two texts, with 3 lines of
// context, that patch(1) and git apply accept: hunk headers with line
// counts, plain file names, and the "\ No newline at end of file" marker.
func unifiedDiff(name string, a, b []byte) string {
	ops := textdiff.Lines(string(a), string(b))
	lastA, lastB := -1, -1 // the index of each text's last line, if it has no newline
	if len(a) > 0 && a[len(a)-1] != '\n' {
		lastA = bytes.Count(a, []byte("\n"))
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		lastB = bytes.Count(b, []byte("\n"))
	}
	if n := len(ops); n > 0 && ops[n-1].Op == ' ' && (lastA == ops[n-1].A) != (lastB == ops[n-1].B) {
		// The last lines differ only in their newline: a change all the same.
		last := ops[n-1]
		ops = append(ops[:n-1], textdiff.Line{Op: '-', Text: last.Text, A: last.A, B: last.B}, textdiff.Line{Op: '+', Text: last.Text, A: last.A + 1, B: last.B})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", name, name)
	for k := 0; k < len(ops); {
		if ops[k].Op == ' ' {
			k++
			continue
		}
		from := max(0, k-3)
		to := k
		for to < len(ops) {
			if ops[to].Op != ' ' {
				to++
				continue
			}
			run := to
			for run < len(ops) && ops[run].Op == ' ' {
				run++
			}
			if run-to > 6 || run == len(ops) {
				to = min(to+3, len(ops))
				break
			}
			to = run
		}
		var countA, countB int
		for _, o := range ops[from:to] {
			if o.Op != '+' {
				countA++
			}
			if o.Op != '-' {
				countB++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(ops[from].A, countA), hunkRange(ops[from].B, countB))
		for _, o := range ops[from:to] {
			out.WriteString(string(o.Op) + o.Text + "\n")
			if (o.Op != '+' && o.A == lastA) || (o.Op != '-' && o.B == lastB) {
				out.WriteString("\\ No newline at end of file\n")
			}
		}
		k = to
	}
	return out.String()
}

// hunkRange is one side of a hunk header: the first line (1-based) and the
// count, or for an empty side the line after which it applies.
func hunkRange(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
