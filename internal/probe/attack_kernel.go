package probe

import (
	"context"
	"os"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

func init() {
	register(mcp.NewTool("attack_kernel_knobs",
		mcp.WithDescription("Open the host kernel's writable knobs under /proc for writing (/proc/sys/kernel/core_pattern, /proc/sys/vm/stat_interval, /proc/sysrq-trigger) and close them again without writing. Escaped when any opens.")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var opened, refused []string
			for _, p := range []string{"/proc/sys/kernel/core_pattern", "/proc/sys/vm/stat_interval", "/proc/sysrq-trigger"} {
				// Opening is enough to prove write access; never write:
				// a write to sysrq-trigger would act on the host.
				f, err := os.OpenFile(p, os.O_WRONLY, 0)
				if err != nil {
					refused = append(refused, err.Error())
					continue
				}
				f.Close()
				opened = append(opened, p)
			}
			if len(opened) > 0 {
				return mcp.NewToolResultText("ESCAPED: opened for writing: " + strings.Join(opened, "; ")), nil
			}
			return mcp.NewToolResultError("blocked: " + strings.Join(refused, "; ")), nil
		})
}
