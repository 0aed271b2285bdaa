package pins

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/trace"
)

// ToolDef is what a pin records of one tool.
type ToolDef struct {
	Digest      string          `json:"digest"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema,omitempty"`
}

// PinSet is a server's definitions at one point: its instructions and its
// tools. Only what the server says is pinned, never srt-mcp's policy: a
// change the user made (a domain added to the settings, another working
// directory) is the user's own decision and must not block tool calls.
// (Pin files written before this kept a "policy" digest; it is ignored.)
type PinSet struct {
	Instructions string             `json:"instructions"`
	Tools        map[string]ToolDef `json:"tools"`
}

// PinFile is the state of one server's pins: what the user accepted (or
// what was seen first: trust on first use) and what was seen since and
// differs, waiting for `srt-mcp pins accept`.
type PinFile struct {
	Server   string  `json:"server"`
	Accepted *PinSet `json:"accepted"`
	Pending  *PinSet `json:"pending,omitempty"`
	Updated  string  `json:"updated"`
}

// Load reads a server's pin file (nil when there is none).
func Load(dir, server string) (*PinFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, pinFileName(server)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p PinFile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("pin file of %s: %w", server, err)
	}
	return &p, nil
}

// Save writes a server's pin file atomically.
func Save(dir string, p *PinFile) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pins directory: %w", err)
	}
	p.Updated = time.Now().UTC().Format(time.RFC3339)
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("pin file of %s: %w", p.Server, err)
	}
	tmp, err := os.CreateTemp(dir, ".pins-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, pinFileName(p.Server)))
}

func pinFileName(server string) string {
	name := trace.FileName(server)
	return name[:len(name)-len(".jsonl")] + ".json"
}

// Accept makes what is pending the accepted state.
func Accept(dir, server string) (*PinFile, error) {
	p, err := Load(dir, server)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("no pins recorded for %q", server)
	}
	if p.Pending == nil {
		return p, nil
	}
	p.Accepted, p.Pending = p.Pending, nil
	return p, Save(dir, p)
}
