#!/usr/bin/env python3
# npm install of a small real project (express, lodash) from a warmed
# cache, direct and inside the sandbox, interleaved round by round so that
# the load of a shared machine hits every mode alike. Usage:
#   bench-npm-install.py SRT_MCP [BASELINE_SRT_MCP] [ROUNDS]
import json, os, shutil, statistics, subprocess, sys, tempfile, time
from urllib.parse import urlparse

srt = sys.argv[1]
base = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
root = tempfile.mkdtemp(prefix="srt-mcp-npm-bench-", dir="/var/tmp")
cache = os.path.join(root, "cache")
pkg = {"name": "bench", "version": "1.0.0", "private": True,
       "dependencies": {"express": "4.21.2", "lodash": "4.17.21"}}
npm = ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--cache", cache, "--prefer-offline"]
tmpl = os.path.join(root, "tmpl"); os.makedirs(tmpl)
json.dump(pkg, open(os.path.join(tmpl, "package.json"), "w"))
subprocess.run(npm, cwd=tmpl, check=True, capture_output=True)
shutil.rmtree(os.path.join(tmpl, "node_modules"))
host = urlparse(subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True).stdout.strip()).hostname
settings = os.path.join(root, "settings.json")
json.dump({"network": {"allowedDomains": [host]}, "filesystem": {"allowWrite": [".", cache]}}, open(settings, "w"))
modes = {"direct": npm, "srt-mcp": [srt, "--settings", settings, "--"] + npm,
         "srt-mcp --observe=false": [srt, "--settings", settings, "--observe=false", "--"] + npm}
if base:
    modes["baseline"] = [base, "--settings", settings, "--"] + npm
res = {}
for r in range(rounds):
    for name, argv in modes.items():
        d = os.path.join(root, "run"); shutil.copytree(tmpl, d)
        env = dict(os.environ, npm_config_update_notifier="false", XDG_STATE_HOME=os.path.join(root, "state"))
        t = time.time()
        p = subprocess.Popen(argv, cwd=d, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p.wait()
        res.setdefault(name, []).append(time.time() - t)
        ok = os.path.exists(os.path.join(d, "node_modules", "express", "package.json"))
        files = sum(len(f) for _, _, f in os.walk(os.path.join(d, "node_modules")))
        if p.returncode != 0 or not ok:
            sys.exit(f"{name}: exit {p.returncode}, installed {ok}")
        shutil.rmtree(d)
for name, v in res.items():
    print(f"{name:26s} median {statistics.median(v):6.2f} s  min {min(v):6.2f} s  ({files} files)")
shutil.rmtree(root)
