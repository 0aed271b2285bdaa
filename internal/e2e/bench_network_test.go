//go:build unix

package e2e

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// Network benchmarks: the same client code (the probe's netbench tool)
// runs once directly on the host against a loopback sink ("direct"), and
// once inside the sandbox, where its only way out is CONNECT through the
// proxy listener that srt-mcp serves ("bridge"). See docs/performance.md.

// sink reads each connection to EOF and then closes it.
func sink(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// benchClient starts the probe, directly or under srt-mcp, and returns the
// client and the PID of the process it talks to.
func benchClient(b *testing.B, wrapped bool, srtArgs ...string) (*client.Client, func() int) {
	b.Helper()
	dir := testbin.HostTempDir(b)
	command, args := testbin.Probe(b), []string(nil)
	if wrapped {
		testbin.RequireBwrap(b)
		command, args = testbin.SrtMCP(b), append(append(srtArgs, "--"), testbin.Probe(b))
	}
	var cmd *exec.Cmd
	tr := transport.NewStdioWithOptions(command, nil, args,
		transport.WithCommandFunc(func(ctx context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd = exec.Command(command, args...)
			cmd.Dir = dir
			cmd.Env = isolatedEnv(b)
			return cmd, nil
		}))
	c := client.NewClient(tr, client.WithProtocolVersion("2025-11-25"))
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{ProtocolVersion: "2025-11-25"}}); err != nil {
		b.Fatal(err)
	}
	return c, func() int { return cmd.Process.Pid }
}

func benchTool(b *testing.B, c *client.Client, tool string, args map[string]any) string {
	b.Helper()
	res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		b.Fatal(err)
	}
	text := res.Content[0].(mcp.TextContent).Text
	if res.IsError {
		b.Fatalf("%s: %s", tool, text)
	}
	return text
}

func metric(b *testing.B, text, name string) float64 {
	for _, f := range strings.Fields(text) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			x, _ := strconv.ParseFloat(v, 64)
			return x
		}
	}
	b.Fatalf("no %s in %q", name, text)
	return 0
}

const bridgePolicy = `{"network": {"allowedDomains": ["localhost"]}}`

func bridgeArgs(b *testing.B) []string {
	return []string{"--settings", writeFile(b, "settings.json", bridgePolicy)}
}

func writeFile(b *testing.B, name, content string) string {
	p := filepath.Join(testbin.HostTempDir(b), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// netbenchClient starts the probe for a tunnel benchmark and says how it
// reaches the sink: directly, or ("bridge") as localhost through the
// sandbox's HTTP proxy.
func netbenchClient(b *testing.B, mode, sinkAddr string) (*client.Client, string, string) {
	c, _ := benchClient(b, mode == "bridge", bridgeArgs(b)...)
	if mode == "bridge" {
		return c, "localhost:" + port(sinkAddr), "127.0.0.1:3128"
	}
	return c, sinkAddr, "none"
}

// BenchmarkTunnelThroughput uploads 256 MiB per iteration.
func BenchmarkTunnelThroughput(b *testing.B) {
	const size = 256 << 20
	addr := sink(b)
	for _, mode := range []string{"direct", "bridge"} {
		b.Run(mode, func(b *testing.B) {
			c, target, proxy := netbenchClient(b, mode, addr)
			b.SetBytes(size)
			var mbps []float64
			cpu0 := cpuTime(b)
			for b.Loop() {
				out := benchTool(b, c, "netbench", map[string]any{"address": target, "proxy": proxy, "bytes": size, "dials": 0})
				mbps = append(mbps, metric(b, out, "throughput_MBps"))
			}
			b.ReportMetric(medianF(mbps), "tunnel-MB/s")
			// CPU seconds the whole machine spent per GiB moved: with two
			// vCPUs, this is what caps the bridge against direct TCP.
			b.ReportMetric((cpuTime(b)-cpu0)/(float64(size)*float64(b.N)/(1<<30)), "cpu-s/GiB")
		})
	}
}

// BenchmarkTunnelSetup opens and closes 200 connections per iteration and
// reports the median set-up time: TCP connect, plus the CONNECT exchange
// (policy check included) through the bridge.
func BenchmarkTunnelSetup(b *testing.B) {
	addr := sink(b)
	for _, mode := range []string{"direct", "bridge"} {
		b.Run(mode, func(b *testing.B) {
			c, target, proxy := netbenchClient(b, mode, addr)
			var p50 []float64
			for b.Loop() {
				out := benchTool(b, c, "netbench", map[string]any{"address": target, "proxy": proxy, "bytes": 0, "dials": 200})
				p50 = append(p50, metric(b, out, "setup_p50_us"))
			}
			b.ReportMetric(medianF(p50), "setup-p50-µs")
		})
	}
}

// BenchmarkTunnelMemory holds 500 SOCKS5 tunnels open through the bridge
// and reports srt-mcp's resident memory then, against its idle baseline.
func BenchmarkTunnelMemory(b *testing.B) {
	const n = 500
	var mu sync.Mutex
	var held []net.Conn
	ready := make(chan struct{}, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				var one [1]byte
				if _, err := io.ReadFull(conn, one[:]); err != nil {
					conn.Close()
					return
				}
				mu.Lock()
				held = append(held, conn)
				if len(held) == n {
					ready <- struct{}{}
				}
				mu.Unlock()
			}()
		}
	}()
	c, pid := benchClient(b, true, bridgeArgs(b)...)
	idle := vmRSS(pid())
	var loaded int64
	for b.Loop() {
		done := make(chan string, 1)
		go func() {
			done <- benchTool(b, c, "tunnels_hold", map[string]any{"address": "localhost:" + port(ln.Addr().String()), "n": n})
		}()
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			b.Fatal("500 tunnels did not open")
		}
		loaded = max(loaded, vmRSS(pid()))
		mu.Lock()
		for _, conn := range held {
			conn.Close()
		}
		held = nil
		mu.Unlock()
		if out := <-done; out != "500 tunnels held" {
			b.Fatal(out)
		}
	}
	b.ReportMetric(float64(idle)/1024, "idle-rss-MiB")
	b.ReportMetric(float64(loaded)/1024, "rss-500-tunnels-MiB")
}

func vmRSS(pid int) int64 { return procStatus(pid, "VmRSS:") }

func medianF(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := append([]float64(nil), x...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

// cpuTime is the machine's busy CPU time in seconds (user, nice, system,
// irq, softirq from /proc/stat).
func cpuTime(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Skip(err)
	}
	f := strings.Fields(strings.SplitN(string(data), "\n", 2)[0])
	var ticks float64
	for _, i := range []int{1, 2, 3, 6, 7} {
		v, _ := strconv.ParseFloat(f[i], 64)
		ticks += v
	}
	return ticks / 100 // USER_HZ
}
