package main

import (
	"context"
	"os/exec"
)

type execCmd = exec.Cmd

func newCmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...)
}
