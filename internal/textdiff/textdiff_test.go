package textdiff

import "testing"

func TestLines(t *testing.T) {
	var got string
	for _, l := range Lines("a\nb\nc\n", "a\nB\nc\nd\n") {
		got += string(l.Op) + l.Text + "\n"
	}
	if want := " a\n-b\n+B\n c\n+d\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
