// This file has no build constraint: every other file of package e2e is
// built for Unix only (the tests need a sandbox backend), and this one
// keeps the package non-empty elsewhere, so that go vet ./... passes for
// every GOOS. The package's documentation is in e2e.go.

package e2e
