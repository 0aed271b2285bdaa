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
	if settingsFile != "" {
		data, err := os.ReadFile(settingsFile)
		if err != nil {
			return nil, settingsFile, &SettingsError{Source: settingsFile, Msg: "cannot read settings: " + err.Error()}
		}
		s, err := ParseSettings(settingsFile, data)
		if err == nil {
			abs, _ := filepath.Abs(settingsFile)
			s.files = []string{abs}
		}
		return s, settingsFile, err
	}
	if profile == "" {
		user := filepath.Join(home, UserSettingsFile)
		data, err := os.ReadFile(user)
		switch {
		case err == nil:
			s, err := ParseSettings(user, data)
			if err == nil {
				s.files = []string{user}
			}
			return s, user, err
		case !errors.Is(err, fs.ErrNotExist):
			return nil, user, &SettingsError{Source: user, Msg: "cannot read settings: " + err.Error()}
		}
		profile = configs.Default
	}
	data, err := configs.Get(profile)
	source := "built-in profile " + profile
	if err != nil {
		return nil, source, &SettingsError{Source: "--profile", Msg: err.Error()}
	}
	s, err := ParseSettings(source, data)
	return s, source, err
}
