package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestE2ETuneBufsize: tune.bufsize and tune.maxrewrite set the window of
// content inspection as in HAProxy (bufsize less maxrewrite, the reserve
// at most half the buffer): a client that sends more than fits makes the
// rules final with a full buffer, so "req.len ge N" passes only for N up
// to the window. Run on goproxy and haproxy with the same expectations.
func TestE2ETuneBufsize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		global  []string
		n       int
		forward bool
	}{
		{nil, 15360, true},
		{nil, 15361, false},
		{[]string{"tune.bufsize 4096"}, 3072, true},
		{[]string{"tune.bufsize 4096"}, 3073, false},
		{[]string{"tune.bufsize 4096", "tune.maxrewrite 100"}, 3996, true},
		{[]string{"tune.bufsize 4096", "tune.maxrewrite 100"}, 3997, false},
		{[]string{"tune.bufsize 2048"}, 1024, true},
		{[]string{"tune.bufsize 2048"}, 1025, false},
	}
	onOracles(t, func(t *testing.T, bin string) {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s req.len ge %d", strings.Join(tc.global, ","), tc.n), func(t *testing.T) {
				srv, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				accepted := make(chan struct{}, 1)
				go func() {
					if c, err := srv.Accept(); err == nil {
						accepted <- struct{}{}
						_, _ = io.Copy(io.Discard, c)
						c.Close()
					}
				}()
				addr, _ := e2eCfg{
					global: tc.global,
					frontend: []string{"tcp-request inspect-delay 3s",
						fmt.Sprintf("tcp-request content accept if { req.len ge %d }", tc.n),
						"tcp-request content reject"},
					servers: []string{"server s1 " + srv.Addr().String()},
				}.runWith(t, bin)
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				_, _ = c.Write(make([]byte, 20000))
				closed := make(chan struct{})
				go func() {
					_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
					_, _ = io.Copy(io.Discard, c)
					close(closed)
				}()
				select {
				case <-accepted:
					if !tc.forward {
						t.Errorf("forwarded, want the connection rejected")
					}
				case <-closed:
					if tc.forward {
						t.Errorf("rejected, want it forwarded")
					}
				case <-time.After(2500 * time.Millisecond):
					t.Errorf("neither forwarded nor rejected")
				}
			})
		}
	})
}
