package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWriteTable(t *testing.T) {
	rows := [][]string{
		{"CLIENT", "FILE", "SERVER", "DETAIL"},
		{"Cursor", "/home/someone/with/a/long/path/.cursor/mcp.json", "brave", strings.Repeat("detail ", 20)},
		{"Zed", "~/.config/zed/settings.json", "pg", "short"},
	}
	var wide, narrow strings.Builder
	writeTable(&wide, rows, 0, nil, nil, nil)
	writeTable(&narrow, rows, 80, []int{1, 3}, map[int]int{3: 20, 1: 20}, map[int]bool{1: true})
	if !strings.Contains(wide.String(), strings.TrimSpace(strings.Repeat("detail ", 20))) {
		t.Errorf("unlimited table cut a cell:\n%s", wide.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(narrow.String(), "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
	want := "Cursor  …th/.cursor/mcp.json  brave   detail detail detail detail detail detail…"
	if lines := strings.Split(narrow.String(), "\n"); lines[1] != want {
		t.Errorf("narrow row:\n%q\nwant\n%q", lines[1], want)
	}
}
