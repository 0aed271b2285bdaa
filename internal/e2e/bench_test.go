//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/probe"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// Benchmarks come in pairs, direct (the server alone) and srt-mcp (the same
// server through the shim and the sandbox), so that
//
//	go test ./shim -run '^$' -bench . -count 10 | tee new.txt; benchstat new.txt
//
// shows the overhead as the difference of the two rows. docs/performance.md
// records the numbers and the machine.

// serverCommand returns the command line for a server, direct or wrapped.
func serverCommand(b *testing.B, wrapped bool, server ...string) *exec.Cmd {
	b.Helper()
	if wrapped {
		testbin.RequireBwrap(b)
		cmd := exec.Command(testbin.SrtMCP(b), append([]string{"--"}, server...)...)
		cmd.Env = isolatedEnv(b)
		return cmd
	}
	return exec.Command(server[0], server[1:]...)
}

// isolatedEnv gives srt-mcp its own state directory (traces, tool pins), so
// benchmarks neither read nor leave the user's.
func isolatedEnv(b *testing.B) []string {
	return append(os.Environ(), "XDG_STATE_HOME="+testbin.HostTempDir(b))
}

// BenchmarkStartup measures spawn to initialize response, then shutdown by
// stdin EOF, of the probe MCP server (Go) and of the reference filesystem
// server (Node.js, from npm). "srt-mcp" runs with the seccomp supervisor
// that reports filesystem violations, "srt-mcp-noobserve" without it
// (--observe=false), so the difference is the supervisor's cost.
func BenchmarkStartup(b *testing.B) {
	servers := map[string]func(b *testing.B) []string{
		"probe": func(b *testing.B) []string { return []string{testbin.Probe(b)} },
		"node": func(b *testing.B) []string {
			return []string{npmServer(b, "@modelcontextprotocol/server-filesystem@2025.8.21", "mcp-server-filesystem"), "."}
		},
	}
	for _, srv := range []string{"probe", "node"} {
		for _, mode := range []string{"direct", "srt-mcp", "srt-mcp-noobserve"} {
			b.Run(srv+"/"+mode, func(b *testing.B) {
				dir := testbin.HostTempDir(b)
				server := servers[srv](b)
				var firstByte []time.Duration
				for b.Loop() {
					var cmd *exec.Cmd
					switch mode {
					case "direct":
						cmd = exec.Command(server[0], server[1:]...)
					case "srt-mcp":
						cmd = serverCommand(b, true, server...)
					default:
						testbin.RequireBwrap(b)
						cmd = exec.Command(testbin.SrtMCP(b), append([]string{"--observe=false", "--"}, server...)...)
					}
					cmd.Dir = dir
					cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+dir)
					in, _ := cmd.StdinPipe()
					out, _ := cmd.StdoutPipe()
					start := time.Now()
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					io.WriteString(in, initialize+"\n")
					line, err := bufio.NewReader(out).ReadBytes('\n')
					if err != nil || !bytes.Contains(line, []byte(`"serverInfo"`)) {
						b.Fatalf("initialize: %q %v", line, err)
					}
					firstByte = append(firstByte, time.Since(start))
					in.Close()
					if err := cmd.Wait(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(median(firstByte).Microseconds())/1000, "init-p50-ms")
			})
		}
	}
}

// BenchmarkRoundTrip measures one small message out and back through a
// running server: "cat" echoes the line, which isolates the cost of the
// relay's two extra hops per round trip; "probe" answers a ping (mcp-go's
// server does the work).
func BenchmarkRoundTrip(b *testing.B) {
	// Shaped as a response, so the shim does its usual bookkeeping.
	echo := `{"jsonrpc":"2.0","id":7,"result":{}}`
	ping := `{"jsonrpc":"2.0","id":7,"method":"ping"}`
	for _, mode := range []string{"direct", "srt-mcp"} {
		b.Run("cat/"+mode, func(b *testing.B) { roundTrip(b, mode == "srt-mcp", []string{"cat"}, nil, echo) })
	}
	handshake := []string{initialize, `{"jsonrpc":"2.0","method":"notifications/initialized"}`}
	for _, mode := range []string{"direct", "srt-mcp"} {
		b.Run("probe/"+mode, func(b *testing.B) { roundTrip(b, mode == "srt-mcp", []string{testbin.Probe(b)}, handshake, ping) })
	}
}

// roundTrip starts server, sends the setup lines (reading one reply for
// each request among them), then times msg out and its reply back.
func roundTrip(b *testing.B, wrapped bool, server []string, setup []string, msg string) {
	cmd := serverCommand(b, wrapped, server...)
	cmd.Dir = testbin.HostTempDir(b)
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	out := bufio.NewReader(outPipe)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { in.Close(); cmd.Wait() }()
	for _, line := range setup {
		io.WriteString(in, line+"\n")
		if strings.Contains(line, `"id"`) {
			if _, err := out.ReadBytes('\n'); err != nil {
				b.Fatal(err)
			}
		}
	}
	line := []byte(msg + "\n")
	var rtt []time.Duration
	for b.Loop() {
		t0 := time.Now()
		in.Write(line)
		if _, err := out.ReadBytes('\n'); err != nil {
			b.Fatal(err)
		}
		rtt = append(rtt, time.Since(t0))
	}
	b.ReportMetric(float64(median(rtt).Nanoseconds())/1000, "rtt-p50-µs")
}

// BenchmarkRelay64MiB moves one 64 MiB message through the relay, in each
// direction: "down" is a server writing it to the client (cat of a file),
// "up" is the client writing it to a server that discards it. The test ends
// of the pipes are plain file descriptors, so no copying goroutine of
// os/exec sits in the path. It also reports the peak RSS (VmHWM) of the
// process the client talks to, read while that process is still alive.
func BenchmarkRelay64MiB(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","method":"big","params":{"s":"` + probe.Pattern(64<<20) + `"}}` + "\n")
	dir := testbin.HostTempDir(b)
	file := dir + "/big.json"
	if err := os.WriteFile(file, msg, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, dirn := range []string{"down", "up"} {
		for _, mode := range []string{"direct", "srt-mcp"} {
			b.Run(dirn+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(len(msg)))
				var peak int64
				buf := make([]byte, 1<<20)
				for b.Loop() {
					var cmd *exec.Cmd
					if dirn == "down" {
						// exec keeps stdin open until the end, as an MCP
						// client would.
						cmd = serverCommand(b, mode == "srt-mcp", "sh", "-c", "cat big.json; read x || true")
					} else {
						cmd = serverCommand(b, mode == "srt-mcp", "sh", "-c", "wc -c >&2")
					}
					cmd.Dir = dir
					inR, inW, _ := os.Pipe()
					outR, outW, _ := os.Pipe()
					cmd.Stdin, cmd.Stdout = inR, outW
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					inR.Close()
					outW.Close()
					var n int64
					if dirn == "down" {
						for n < int64(len(msg)) {
							k, err := outR.Read(buf)
							if err != nil {
								b.Fatalf("after %d bytes: %v", n, err)
							}
							n += int64(k)
						}
						peak = max(peak, procStatus(cmd.Process.Pid, "VmHWM:"))
						inW.Close()
						io.Copy(io.Discard, outR)
					} else {
						if _, err := inW.Write(msg); err != nil {
							b.Fatal(err)
						}
						peak = max(peak, procStatus(cmd.Process.Pid, "VmHWM:"))
						inW.Close()
						io.Copy(io.Discard, outR)
					}
					outR.Close()
					if err := cmd.Wait(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(peak)/1024, "peak-rss-MiB")
			})
		}
	}
}

// procStatus reads a KiB field of a live process's /proc/PID/status, such
// as VmHWM (peak resident set size). Unlike the rusage of a waited-for
// child, VmHWM does not include memory the process shared with the
// benchmark before exec.
func procStatus(pid int, field string) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
