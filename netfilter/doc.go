// Package netfilter will hold the domain matcher and the filtering HTTP and
// SOCKS5 proxies that give sandboxed servers their only route out.
//
// Until they land, a sandboxed server has no network at all: bubblewrap puts
// it in an empty network namespace (--unshare-net), so every connection
// fails. That is the meaning of an empty network.allowedDomains, and srt-mcp
// says on stderr when a policy allows domains it cannot serve yet.
package netfilter
