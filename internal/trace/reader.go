package trace

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// UnknownServerError is Read's answer to a server name that has no trace.
type UnknownServerError struct {
	Server string
	Known  []string // the servers that have traces, as Servers returns them
}

func (e *UnknownServerError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no traces for server %q (no server has traces yet)", e.Server)
	}
	return fmt.Sprintf("no traces for server %q; servers with traces: %s", e.Server, strings.Join(e.Known, ", "))
}

// Read reads the trace files in dir: all of them, or server's. Malformed
// lines are counted, not fatal: a trace may end in a half-written line if
// srt-mcp was killed.
//
// server is the name as people see it, the one in each record and in
// srt-mcp traces' summary ("mcp-servers/everything"). Files are named by
// FileName, which replaces characters such as "/" and so can give two
// servers one file; matching the records' names keeps them apart. A name
// that matches no record but is a trace file's name (with or without
// .jsonl, "mcp-servers_everything") selects that file, so the name in an
// ls of the directory works too. Any other name is an *UnknownServerError.
func Read(dir, server string) (records []Record, bad int, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, 0, err
	}
	byFile := map[string][]Record{}
	for _, f := range files {
		rs, b, err := readFile(f)
		if err != nil {
			return nil, 0, err
		}
		bad += b
		byFile[filepath.Base(f)] = rs
		records = append(records, rs...)
	}
	if server == "" {
		return records, bad, nil
	}
	var named []Record
	for _, r := range records {
		if r.Server == server {
			named = append(named, r)
		}
	}
	if len(named) > 0 {
		return named, bad, nil
	}
	for _, f := range []string{server, server + ".jsonl"} {
		if rs, ok := byFile[f]; ok && strings.HasSuffix(f, ".jsonl") {
			return rs, bad, nil
		}
	}
	return nil, bad, &UnknownServerError{Server: server, Known: Servers(records)}
}

// IsUnknownServer reports whether err is Read's unknown-server error.
func IsUnknownServer(err error) bool {
	var u *UnknownServerError
	return errors.As(err, &u)
}

// Servers are the names of the servers in records, sorted, each once.
func Servers(records []Record) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range records {
		if !seen[r.Server] {
			seen[r.Server] = true
			names = append(names, r.Server)
		}
	}
	sort.Strings(names)
	return names
}

func readFile(name string) (records []Record, bad int, err error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r Record
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Kind == "" {
			bad++
			continue
		}
		records = append(records, r)
	}
	if sc.Err() != nil { // a line over 16 MiB, or a read error: the rest is lost
		bad++
	}
	return records, bad, nil
}
