// Package textdiff compares texts line by line (longest common
// subsequence: the texts it serves, config files and tool definitions, are
// small).
package textdiff

import "strings"

// Line is one line of the comparison: ' ' in both, '-' only in the old
// text, '+' only in the new. A and B are the line's index in each text
// (the position it would have, for lines missing from one).
type Line struct {
	Op   byte
	Text string // without its newline
	A, B int
}

// Lines compares a and b, deletions before insertions where they meet.
func Lines(a, b string) []Line {
	x, y := split(a), split(b)
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []Line
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			out = append(out, Line{' ', x[i], i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, Line{'-', x[i], i, j})
			i++
		default:
			out = append(out, Line{'+', y[j], i, j})
			j++
		}
	}
	return out
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
