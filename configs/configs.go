// Package configs holds srt-mcp's built-in policy profiles, embedded in the
// binary. Each profile is an srt settings file.
package configs

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.json
var files embed.FS

// Default is the profile used when neither --settings, --profile nor
// ~/.srt-settings.json says otherwise.
const Default = "default"

// Names lists the built-in profiles.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// Get returns a profile's settings JSON.
func Get(name string) ([]byte, error) {
	data, err := files.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (have: %s)", name, strings.Join(Names(), ", "))
	}
	return data, nil
}
