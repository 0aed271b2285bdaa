package trace

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
)

// Read reads the trace files in dir: all of them, or the one of
// server. Malformed lines are counted, not fatal: a trace may end in a
// half-written line if srt-mcp was killed.
func Read(dir, server string) (records []Record, bad int, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, 0, err
	}
	if server != "" {
		files = []string{filepath.Join(dir, FileName(server))}
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, 0, err
		}
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
		fh.Close()
	}
	return records, bad, nil
}
