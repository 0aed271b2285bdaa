package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// commandError says why the server's command cannot be run inside the
// sandbox, from exec.LookPath's error: a directory and a file without
// execute permission are reported as such, not as "not found", which
// sends people looking at their PATH.
func commandError(name string, err error) error {
	switch {
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("%s: is a directory, not a program (name the server's executable file)", name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: cannot be executed inside the sandbox: permission denied (chmod +x it; a file under a denyRead path cannot be run either)", name)
	}
	return fmt.Errorf("%s: not found inside the sandbox (is it on PATH, and outside denyRead?): %w", name, err)
}
