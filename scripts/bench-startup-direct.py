#!/usr/bin/env python3
# Spawn -> initialize response of the probe MCP server, directly and under
# srt-mcp (default settings, or each settings file given), alternating
# round by round so every mode sees the same load. ROUNDS (default 12).
# Usage: bench-startup-direct.py PROBE SRT_MCP [default|SETTINGS.json ...]
# (run from a project directory of your choice; the tiny one used for
# docs/performance.md is an empty directory under /var/tmp).
import subprocess,time,sys,os,statistics
probe,srt=sys.argv[1],sys.argv[2]
cfgs=sys.argv[3:]
init=b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}\n'
env=dict(os.environ,XDG_STATE_HOME="/var/tmp/srt-mcp-bench-state")
res={}
for r in range(int(os.environ.get("ROUNDS","12"))):
    for c in ["direct"]+cfgs:
        argv=[probe] if c=="direct" else ([srt,"--settings",c,"--",probe] if c!="default" else [srt,"--",probe])
        s=time.time()
        p=subprocess.Popen(argv,stdin=subprocess.PIPE,stdout=subprocess.PIPE,stderr=subprocess.DEVNULL,env=env)
        p.stdin.write(init); p.stdin.flush(); p.stdout.readline()
        res.setdefault(c,[]).append((time.time()-s)*1000)
        p.stdin.close(); p.wait()
for k,v in res.items():
    print("%-40s median %6.1f ms  min %6.1f ms"%(k,statistics.median(v),min(v)))
