package netfilter

import (
	"io"
	"net"
	"os"
	"strconv"

	"golang.org/x/net/proxy"
)

// ConnectStdio connects to host:port through the SOCKS5 proxy at proxyAddr
// and relays stdin and stdout over the connection: ssh's ProxyCommand
// inside the sandbox, so git over ssh takes the filtered route without nc
// or socat.
func ConnectStdio(proxyAddr, host, port string) error {
	if _, err := strconv.Atoi(port); err != nil {
		return err
	}
	d, err := proxy.SOCKS5("tcp", proxyAddr, nil, proxy.Direct)
	if err != nil {
		return err
	}
	c, err := d.Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return err
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, os.Stdin)
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		done <- err
	}()
	_, err = io.Copy(os.Stdout, c)
	return err
}
