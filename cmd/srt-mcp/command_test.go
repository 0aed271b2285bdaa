package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCommandHelp(t *testing.T) {
	cmd := newCommand("x", "[--n N] FILE", "Does x.\n")
	cmd.Int("n", 3, "try `N` times")
	cmd.Bool("quiet", false, "say nothing")
	cmd.Bool("observe", true, "report\nwhat was seen")
	cmd.Duration("wait", time.Second, "wait")
	cmd.String("hidden", "", "")
	cmd.alias("q", "quiet")
	cmd.String("c", "", "run `CMD`")
	want := `Usage: srt-mcp x [--n N] FILE

Does x.

Flags:
  -c CMD            run CMD
  -n N              try N times (default 3)
  --observe         report
                    what was seen
                    (default true)
  -q, --quiet       say nothing
  --wait duration   wait (default 1s)
`
	if diff := cmp.Diff(want, cmd.help()); diff != "" {
		t.Errorf("help (-want +got):\n%s", diff)
	}
}

func TestCommandParse(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		code           int
		done           bool
		stdout, stderr string
	}{
		{args: []string{"--n", "4", "f"}},
		{args: []string{"-h"}, code: 0, done: true, stdout: "Usage: srt-mcp x"},
		{args: []string{"--help"}, code: 0, done: true, stdout: "Usage: srt-mcp x"},
		{args: []string{"--bogus"}, code: 2, done: true, stderr: "srt-mcp x: flag provided but not defined: -bogus\nUsage: srt-mcp x"},
		{args: []string{"--n", "many"}, code: 2, done: true, stderr: "srt-mcp x: invalid value"},
	} {
		cmd := newCommand("x", "", "")
		cmd.Int("n", 3, "")
		var stdout, stderr strings.Builder
		code, done := cmd.parse(tc.args, &stdout, &stderr)
		if code != tc.code || done != tc.done || !strings.HasPrefix(stdout.String(), tc.stdout) || !strings.HasPrefix(stderr.String(), tc.stderr) ||
			(tc.stdout == "") != (stdout.Len() == 0) || (tc.stderr == "") != (stderr.Len() == 0) {
			t.Errorf("%q: code %d done %v, stdout %q, stderr %q", tc.args, code, done, stdout.String(), stderr.String())
		}
	}
}

// TestSubcommandOutputErrors: output that could not be written is reported
// and never exits 0.
func TestSubcommandOutputErrors(t *testing.T) {
	var stderr strings.Builder
	code := runSubcommand("profiles", runProfiles, nil, failingWriter{}, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "srt-mcp profiles: cannot write the output: disk full") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := runSubcommand("profiles", runProfiles, []string{"--bogus"}, failingWriter{}, &stderr); code != 2 {
		t.Errorf("a usage error's code is kept: exit %d", code)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
