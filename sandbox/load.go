package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/srt-mcp/srt-mcp/configs"
)

// UserSettingsFile is srt's settings location, relative to the home
// directory; srt-mcp reads the same file so an srt setup works unchanged.
const UserSettingsFile = ".srt-settings.json"

// LoadSettings finds and parses the settings: the file given with
// --settings, else the named built-in profile, else ~/.srt-settings.json,
// else the built-in default profile; with both --settings and --profile,
// the file is layered over the profile (see Layer). It returns the
// settings and a description of their source.
func LoadSettings(settingsFile, profile, home string) (*Settings, string, error) {
	if settingsFile != "" && profile != "" {
		base, baseSource, err := LoadSettings("", profile, home)
		if err != nil {
			return nil, baseSource, err
		}
		over, overSource, err := LoadSettings(settingsFile, "", home)
		if err != nil {
			return nil, overSource, err
		}
		return Layer(base, over), overSource + " over " + baseSource, nil
	}
	data, source, file, err := readSettings(settingsFile, profile, home)
	if err != nil {
		return nil, source, err
	}
	s, err := ParseSettings(source, data)
	if err == nil && file != "" {
		s.files = []string{file}
	}
	return s, source, err
}

// ReadSettings returns the raw JSON of the one source LoadSettings reads
// first (the file, else without a profile ~/.srt-settings.json, else the
// profile or the default one) and its description, failing exactly as
// LoadSettings does: only a missing ~/.srt-settings.json falls back to the
// default, never one that cannot be read. For callers that derive a policy
// from the user's (selftest, audit); the JSON is not parsed here.
func ReadSettings(settingsFile, profile, home string) ([]byte, string, error) {
	data, source, _, err := readSettings(settingsFile, profile, home)
	return data, source, err
}

// readSettings is ReadSettings, with the absolute path of the file read
// ("" for a built-in profile).
func readSettings(settingsFile, profile, home string) (data []byte, source, file string, err error) {
	if settingsFile != "" {
		data, err := os.ReadFile(settingsFile)
		if err != nil {
			return nil, settingsFile, "", &SettingsError{Source: settingsFile, Msg: "cannot read settings: " + err.Error()}
		}
		abs, _ := filepath.Abs(settingsFile)
		return data, settingsFile, abs, nil
	}
	if profile == "" {
		user := filepath.Join(home, UserSettingsFile)
		data, err := os.ReadFile(user)
		switch {
		case err == nil:
			return data, user, user, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, user, "", &SettingsError{Source: user, Msg: "cannot read settings: " + err.Error()}
		}
		profile = configs.Default
	}
	data, err = configs.Get(profile)
	source = "built-in profile " + profile
	if err != nil {
		return nil, source, "", &SettingsError{Source: "--profile", Msg: err.Error()}
	}
	return data, source, "", nil
}
