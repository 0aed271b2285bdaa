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

// Identity is the server the user configured, which pins are keyed by:
// never the serverInfo.name the server reports, which the server chooses
// (a changed server would escape its pins by reporting a new name, and
// two different servers reporting the same name would share one pin).
type Identity struct {
	// Key names the pin file: sandbox.LauncherKey of the command line
	// after -- (normalised) or of --name when given.
	Key string
	// Name is --name (the MCP client's entry name), if given.
	Name string
	// Command is the command line after --, for people (pins list).
	Command []string
}

// PinFile is the state of one server's pins: what the user accepted (or
// what was seen first: trust on first use) and what was seen since and
// differs, waiting for `srt-mcp pins accept`.
type PinFile struct {
	// Key, Name and Command are the Identity the file belongs to. A file
	// without a key is a legacy one, keyed by the name the server
	// reported (see LoadLegacy).
	Key     string   `json:"key,omitempty"`
	Name    string   `json:"name,omitempty"`
	Command []string `json:"command,omitempty"`
	// Server is the serverInfo.name the server last reported: the
	// server's words, shown to people, never a key.
	Server   string  `json:"server"`
	Accepted *PinSet `json:"accepted"`
	Pending  *PinSet `json:"pending,omitempty"`
	Updated  string  `json:"updated"`
}

// Legacy reports whether the file predates keyed pins.
func (p *PinFile) Legacy() bool { return p.Key == "" }

// Load reads the pin file of the server with the given key (nil when
// there is none). A legacy file that happens to have that name is not it.
func Load(dir, key string) (*PinFile, error) {
	p, err := read(filepath.Join(dir, pinFileName(key)))
	if p != nil && p.Key != key {
		return nil, nil
	}
	return p, err
}

// LoadLegacy reads a pin file written before pins were keyed by the
// configured server, when they were named after the serverInfo.name the
// server reported (nil when there is none, or when the file of that name
// is a keyed one). Such a file is only ever read, to seed a configured
// server's first pins: see Session.SetServer.
func LoadLegacy(dir, reported string) (*PinFile, error) {
	p, err := read(filepath.Join(dir, pinFileName(reported)))
	if p == nil || !p.Legacy() {
		return nil, err
	}
	return p, nil
}

func read(path string) (*PinFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p PinFile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("pin file %s: %w", path, err)
	}
	return &p, nil
}

// List reads every pin file in dir, keyed and legacy, in file name order.
// A file that cannot be read is returned as an error next to the others.
func List(dir string) ([]*PinFile, []error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{err}
	}
	var out []*PinFile
	var errs []error
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" || e.Name()[0] == '.' {
			continue
		}
		p, err := read(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p != nil {
			out = append(out, p)
		}
	}
	return out, errs
}

// Save writes a server's pin file atomically. Only keyed files are
// written: legacy ones are read, never updated.
func Save(dir string, p *PinFile) error {
	if p.Key == "" {
		return fmt.Errorf("pin file of %s: no key", p.Server)
	}
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
	return os.Rename(tmp.Name(), filepath.Join(dir, pinFileName(p.Key)))
}

func pinFileName(key string) string {
	name := trace.FileName(key)
	return name[:len(name)-len(".jsonl")] + ".json"
}

// Accept makes what is pending the accepted state of the server with the
// given key.
func Accept(dir, key string) (*PinFile, error) {
	p, err := Load(dir, key)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("no pins recorded for %q", key)
	}
	if p.Pending == nil {
		return p, nil
	}
	p.Accepted, p.Pending = p.Pending, nil
	return p, Save(dir, p)
}
