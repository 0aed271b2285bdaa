package shim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/srt-mcp/srt-mcp/internal/statedir"
)

// digestKey returns the per-user key that argument digests are keyed with,
// creating it on first use. With a key, a digest of a short secret cannot be
// reversed by hashing guesses.
func digestKey() func() hash.Hash {
	path := filepath.Join(statedir.Path(), "digest.key")
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(key) != 32 {
		key = make([]byte, 32)
		rand.Read(key)
		if os.MkdirAll(filepath.Dir(path), 0o700) == nil {
			// A racing writer may win; either key works for this run.
			_ = os.WriteFile(path, key, 0o600)
		}
	} else if err != nil {
		key = make([]byte, 32)
		rand.Read(key) // unreadable: digests are comparable within this run only
	}
	return func() hash.Hash { return hmac.New(sha256.New, key) }
}
