package probe

// Log-injection attacks: the server puts a newline, an ESC sequence and
// Unicode bidi/C1 characters into the strings srt-mcp reports about it (a
// denied path, a proxy host name), hoping they reach srt-mcp's stderr and
// `srt-mcp traces` raw: a forged "srt-mcp:" line, a cleared screen, a
// disguised name. The probe cannot see srt-mcp's stderr; it only makes the
// attempt and says whether the operation itself was refused. The escape
// test (internal/e2e/output_test.go) reads the stderr and the traces.

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// ForgedLine is the text the attacks smuggle after a newline: it would
// read as one of srt-mcp's own lines, followed by "clear the screen".
const ForgedLine = "srt-mcp: forged line"

// InjectedName is a file or host name carrying the forged line.
const InjectedName = "x\n" + ForgedLine + "\x1b[2J"

// InjectedUnicodeHost is a host name with a bidi override and a C1 CSI:
// bytes an HTTP parser lets through (it refuses C0 controls) that still
// disguise text or drive a terminal.
const InjectedUnicodeHost = "evil\u202etxt.\u009b2Jexample"

func init() {
	register(mcp.NewTool("inject_path", mcp.WithDescription("Open, create and mkdir a name carrying a forged srt-mcp line and an ESC sequence under dir (a denied directory)."),
		mcp.WithString("dir", mcp.Required())),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			p := filepath.Join(req.GetString("dir", ""), InjectedName)
			var errs []string
			if f, err := os.Open(p); err == nil {
				f.Close()
				return mcp.NewToolResultText("ESCAPED: opened " + p), nil
			} else {
				errs = append(errs, err.Error())
			}
			if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
				f.Close()
				os.Remove(p)
				return mcp.NewToolResultText("ESCAPED: created " + p), nil
			} else {
				errs = append(errs, err.Error())
			}
			if err := os.Mkdir(p+"-dir", 0o755); err == nil {
				os.Remove(p + "-dir")
				return mcp.NewToolResultText("ESCAPED: made directory " + p + "-dir"), nil
			} else {
				errs = append(errs, err.Error())
			}
			return mcp.NewToolResultError(strings.Join(errs, "; ")), nil
		})
	register(mcp.NewTool("inject_socks", mcp.WithDescription("Ask the SOCKS5 proxy in ALL_PROXY for a host name carrying a forged srt-mcp line and an ESC sequence.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if err := socksConnectRaw(os.Getenv("ALL_PROXY"), InjectedName, 443); err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			return mcp.NewToolResultText("ESCAPED: the proxy connected to the injected name"), nil
		})
	register(mcp.NewTool("inject_http", mcp.WithDescription("Ask the HTTP proxy in HTTP_PROXY for host names carrying a forged line, ESC, a bidi override and a C1 CSI, as CONNECT and as an absolute URL.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var out []string
			for _, r := range []struct{ method, target string }{
				{"CONNECT", InjectedName + ":443"},
				{"CONNECT", InjectedUnicodeHost + ":443"},
				{"GET", "http://" + InjectedName + "/"},
				{"GET", "http://" + InjectedUnicodeHost + "/"},
			} {
				status, err := httpProxyRaw(os.Getenv("HTTP_PROXY"), r.method, r.target)
				if err != nil {
					out = append(out, fmt.Sprintf("%s %q: %v", r.method, r.target, err))
					continue
				}
				if status == 200 {
					return mcp.NewToolResultText(fmt.Sprintf("ESCAPED: %s %q answered 200", r.method, r.target)), nil
				}
				out = append(out, fmt.Sprintf("%s %q: %d", r.method, r.target, status))
			}
			return mcp.NewToolResultError(strings.Join(out, "\n")), nil
		})
}

// socksConnectRaw speaks SOCKS5 by hand, so no client library validates
// or rewrites the host name on the way.
func socksConnectRaw(proxyURL, host string, port int) error {
	u, err := url.Parse(proxyURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("ALL_PROXY %q is not a proxy URL", proxyURL)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	method := byte(0x00)
	if u.User != nil {
		method = 0x02
	}
	if _, err := c.Write([]byte{5, 1, method}); err != nil {
		return err
	}
	var sel [2]byte
	if _, err := io.ReadFull(r, sel[:]); err != nil {
		return err
	}
	if sel[1] != method {
		return fmt.Errorf("proxy chose method %d", sel[1])
	}
	if method == 0x02 {
		pass, _ := u.User.Password()
		name := u.User.Username()
		msg := append([]byte{1, byte(len(name))}, name...)
		msg = append(append(msg, byte(len(pass))), pass...)
		if _, err := c.Write(msg); err != nil {
			return err
		}
		var st [2]byte
		if _, err := io.ReadFull(r, st[:]); err != nil || st[1] != 0 {
			return fmt.Errorf("proxy authentication failed: %v", err)
		}
	}
	msg := append([]byte{5, 1, 0, 3, byte(len(host))}, host...)
	msg = append(msg, byte(port>>8), byte(port))
	if _, err := c.Write(msg); err != nil {
		return err
	}
	var rep [4]byte
	if _, err := io.ReadFull(r, rep[:]); err != nil {
		return err
	}
	if rep[1] != 0 {
		return fmt.Errorf("SOCKS5 reply %d (refused)", rep[1])
	}
	return nil
}

// httpProxyRaw sends one request line by hand and returns the status.
func httpProxyRaw(proxyURL, method, target string) (int, error) {
	u, err := url.Parse(proxyURL)
	if err != nil || u.Host == "" {
		return 0, fmt.Errorf("HTTP_PROXY %q is not a proxy URL", proxyURL)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	auth := ""
	if u.User != nil {
		pass, _ := u.User.Password()
		auth = "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass)) + "\r\n"
	}
	// A well-formed Host header: the HTTP server checks it strictly, but
	// takes the destination from the request line (CONNECT authority or
	// absolute URL), which is where the injected name goes.
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: example.com\r\n%sConnection: close\r\n\r\n", method, target, auth); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, err
	}
	var status int
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &status); err != nil {
		return 0, errors.New("unexpected reply " + fmt.Sprintf("%q", line))
	}
	return status, nil
}

func init() {
	register(mcp.NewTool("inject_stderr", mcp.WithDescription("Write a forged srt-mcp line with an ESC sequence and a bidi override to the server's own stderr.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			fmt.Fprintf(os.Stderr, "%s\x1b[2J on the server's stderr\u202e\n", ForgedLine)
			return mcp.NewToolResultError("written to stderr; only srt-mcp's relay decides what the log shows"), nil
		})
}
