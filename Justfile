# Recipes for srt-mcp. `just` is optional: each recipe is one plain command.

# Build the srt-mcp binary into bin/
build:
    go build -o bin/srt-mcp ./cmd/srt-mcp

# Run every test (installs bubblewrap if missing)
test:
    bash scripts/test

# Run the benchmarks; compare runs with benchstat (see docs/performance.md)
bench:
    go test ./internal/e2e ./internal/jsonrpc -run '^$' -bench . -benchtime 30x -count 8 | tee bench.txt

# Formatting, vet, and the macOS and Windows builds
lint:
    test -z "$(gofmt -l $(git ls-files '*.go'))"
    go vet ./...
    GOOS=darwin GOARCH=arm64 go vet ./...
    GOOS=windows GOARCH=amd64 go vet ./...

# Sandbox a real MCP server and show what was blocked
demo:
    bash scripts/demo
