package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"
)

// TestE2ETLSStream sends 1 MB each way through terminated connections
// (client TLS to the proxy, plaintext to the server) and through
// terminated and re-encrypted ones (TLS to the server too), with a
// half-close at the end: every byte comes back, in order, then the end.
func TestE2ETLSStream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	front, _ := ca.issue(t, dir, "front.pem", certOpts{cn: "front.test", dns: []string{"front.test"}})
	_, backCert := ca.issue(t, dir, "back.pem", certOpts{cn: "back.test", dns: []string{"back.test"}})
	tlsBack := startTLSEchoServer(t, "", backCert, nil)
	conf := &tls.Config{ServerName: "front.test", RootCAs: ca.pool}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1, silent)
		for name, server := range map[string]string{
			"plain server": "server s1 " + ss[0].addr(),
			"TLS server":   "server s1 " + tlsBack.addr() + " ssl verify required ca-file " + ca.file + " sni str(back.test)",
		} {
			t.Run(name, func(t *testing.T) {
				addr, _ := startTLSProxy(t, bin, e2eCfg{servers: []string{server}}, "ssl crt "+front)
				var wg sync.WaitGroup
				errs := make(chan error, 3)
				for i := 0; i < 3; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := tlsStream(addr, conf, 1<<20); err != nil {
							errs <- fmt.Errorf("stream %d: %w", i, err)
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
			})
		}
	})
}

// tlsStream sends size random bytes over TLS to an echo backend, sends
// close_notify, and checks the same bytes come back, then the end.
func tlsStream(addr string, conf *tls.Config, size int) error {
	c, _, err := tlsDial(addr, conf)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	data := make([]byte, size)
	_, _ = rand.Read(data)
	werr := make(chan error, 1)
	go func() {
		rest := data
		for n := 1; len(rest) > 0; n = (n*3 + 7) % 65536 {
			k := min(n+1, len(rest))
			if _, err := c.Write(rest[:k]); err != nil {
				werr <- err
				return
			}
			rest = rest[k:]
		}
		werr <- c.CloseWrite()
	}()
	got, rerr := io.ReadAll(c)
	if err := <-werr; err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("reading after %d bytes: %w", len(got), rerr)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("got %d bytes back for %d sent", len(got), len(data))
	}
	return nil
}
