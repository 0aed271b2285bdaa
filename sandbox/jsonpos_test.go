package sandbox

import (
	"strings"
	"testing"
)

func TestSettingsJSONErrorPosition(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"{\"filesystem\": {\n  \"allowWrite\": [\".\",]}}", "not valid JSON: line 2, column 22: invalid character ']' looking for beginning of value"},
		{"{\"a\": 1 \"b\": 2}", "not valid JSON: line 1, column 9: invalid character '\"' after object key:value pair"},
		{"{\n\"network\": {\n", "not valid JSON: line 3, column 1: the file ends before the JSON value does"},
		{"", "not valid JSON: the file is empty"},
		{"{}\n{}", "not valid JSON: unexpected data after the top-level object"},
	} {
		_, err := ParseSettings("s.json", []byte(tc.data))
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want …%s", tc.data, err, tc.want)
		}
	}
}
