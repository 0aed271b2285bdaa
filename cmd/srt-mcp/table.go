package main

import (
	"io"
	"strings"
	"unicode/utf8"
)

// writeTable prints rows (the first is the header) in columns two spaces
// apart. With maxWidth > 0 the table is kept within maxWidth columns by
// shortening the columns in shrink order (column indexes), each to no
// less than its minimum; a shortened cell ends in "…" (or, for a column
// in fromLeft, starts with it: file paths keep their end).
func writeTable(w io.Writer, rows [][]string, maxWidth int, shrink []int, minWidth map[int]int, fromLeft map[int]bool) error {
	if len(rows) == 0 {
		return nil
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := func() int {
		t := 2 * (len(widths) - 1)
		for _, x := range widths {
			t += x
		}
		return t
	}
	if maxWidth > 0 {
		for _, col := range shrink {
			if over := total() - maxWidth; over > 0 {
				widths[col] = max(minWidth[col], widths[col]-over)
			}
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			c = fit(c, widths[i], fromLeft[i])
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		b.WriteString("\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// fit shortens s to width runes, marking the cut with "…".
func fit(s string, width int, fromLeft bool) string {
	r := []rune(s)
	if len(r) <= width || width < 1 {
		return s
	}
	if fromLeft {
		return "…" + string(r[len(r)-width+1:])
	}
	return string(r[:width-1]) + "…"
}
