package sandbox

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
)

// maxGlobVisits bounds the directory walk for a "**" pattern so a rule such
// as "/**/.env" fails loudly instead of stalling start-up.
const maxGlobVisits = 50000

func hasGlobMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

// expandGlob lists the existing paths that match an absolute pattern with
// *, ?, [...] (filepath.Match syntax per component) and ** (any number of
// components). On Linux, rules bind existing paths, so a file created later
// that matches a glob is not covered; the README says so.
func expandGlob(pattern string) ([]string, error) {
	if !strings.Contains(pattern, "**") {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, err
		}
		return matches, nil
	}
	parts := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	base := "/"
	i := 0
	for ; i < len(parts) && !hasGlobMeta(parts[i]); i++ {
		base = filepath.Join(base, parts[i])
	}
	rest := parts[i:]
	for _, r := range rest {
		if strings.Contains(r, "**") && r != "**" {
			return nil, errors.New(`"**" must be a whole path component`)
		}
		if _, err := filepath.Match(r, ""); err != nil {
			return nil, err
		}
	}
	var out []string
	visits := 0
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == base {
				return fs.SkipAll // nothing there: no matches
			}
			return nil
		}
		if visits++; visits > maxGlobVisits {
			return errors.New("pattern matches too large a tree (narrow the part before **)")
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(path, base), "/")
		var comps []string
		if rel != "" {
			comps = strings.Split(rel, "/")
		}
		if matchComponents(rest, comps) {
			out = append(out, path)
		}
		return nil
	})
	return out, err
}

// matchComponents matches path components against pattern components where
// "**" stands for zero or more components.
func matchComponents(pat, comps []string) bool {
	if len(pat) == 0 {
		return len(comps) == 0
	}
	if pat[0] == "**" {
		for k := 0; k <= len(comps); k++ {
			if matchComponents(pat[1:], comps[k:]) {
				return true
			}
		}
		return false
	}
	if len(comps) == 0 {
		return false
	}
	ok, _ := filepath.Match(pat[0], comps[0])
	return ok && matchComponents(pat[1:], comps[1:])
}
