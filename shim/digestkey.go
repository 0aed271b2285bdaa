package shim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/srt-mcp/srt-mcp/internal/statedir"
)

// digestKey returns the per-user key that argument digests are keyed with,
// creating it on first use. With a key, a digest of a short secret cannot be
// reversed by hashing guesses. When the key can be neither read nor saved,
// it returns a key for this run only (digests are then comparable within
// the run, not across runs) and the reason.
func digestKey() (func() hash.Hash, error) {
	path := statedir.DigestKey()
	key, err := os.ReadFile(path)
	switch {
	case err == nil && len(key) == 32:
	case err == nil || errors.Is(err, fs.ErrNotExist):
		key = make([]byte, 32)
		rand.Read(key)
		err = os.MkdirAll(filepath.Dir(path), 0o700)
		if err == nil {
			// A racing writer may win; either key works for this run.
			err = os.WriteFile(path, key, 0o600)
		}
	default:
		key = make([]byte, 32)
		rand.Read(key)
	}
	newHash := func() hash.Hash { return hmac.New(sha256.New, key) }
	if err != nil {
		return newHash, fmt.Errorf("argument digest key %s: %w", path, err)
	}
	return newHash, nil
}
