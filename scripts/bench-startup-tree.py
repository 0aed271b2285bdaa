#!/usr/bin/env python3
# Spawn -> initialize response of the probe through srt-mcp (and a baseline
# build), in a tiny project and in the 200,000-file tree that
# BenchmarkStartupTreeSize generates, interleaved round by round.
# Usage: bench-startup-tree.py PROBE SRT_MCP [BASELINE_SRT_MCP]
# (run BenchmarkStartupTreeSize once first to generate the tree)
import subprocess,time,sys,os,statistics
probe=sys.argv[1]
bins=[b for b in sys.argv[2:4] if b]
os.makedirs("/var/tmp/srt-mcp-bench-tiny", exist_ok=True)
res={}
for r in range(8):
    for name,d in [("tiny","/var/tmp/srt-mcp-bench-tiny"),("200k","/var/tmp/srt-mcp-bench-tree-2000-100")]:
        for bin in bins:
            s=time.time()
            p=subprocess.Popen([bin,"--",probe],stdin=subprocess.PIPE,stdout=subprocess.PIPE,stderr=subprocess.DEVNULL,cwd=d,env=dict(os.environ,XDG_STATE_HOME="/var/tmp/srt-mcp-bench-state"))
            p.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}\n'); p.stdin.flush()
            p.stdout.readline()
            res.setdefault((name,bin),[]).append((time.time()-s)*1000)
            p.stdin.close(); p.wait()
for k,v in sorted(res.items()):
    print(k, "median %.1f ms min %.1f"%(statistics.median(v),min(v)))
