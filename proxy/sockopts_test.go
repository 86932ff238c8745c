package proxy

import (
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProxiedSocketOptions checks TCP_NODELAY and SO_KEEPALIVE on both
// sockets of a live session: the client side's come from the listening
// socket (inherited at accept), the server side's are set at connect.
func TestProxiedSocketOptions(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		tcpka, cli, srv      bool
		wantCliKA, wantSrvKA int
	}{
		{"none", false, false, false, 0, 0},
		{"tcpka", true, false, false, 1, 1},
		{"clitcpka", false, true, false, 1, 0},
		{"srvtcpka", false, false, true, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, echo)
			p := listenProxy(srv.port())
			p.Options.TCPKA, p.Options.CliTCPKA, p.Options.SrvTCPKA = tc.tcpka, tc.cli, tc.srv
			g := startGraph(t, config(p))
			c := dial(t, feAddr(t, g, "li"))
			roundTrip(t, c, "ping")
			var mu sync.Mutex
			var fds [][2]int
			g.onLoops(func(l *loop) {
				l.sessions(func(s *session) {
					mu.Lock()
					fds = append(fds, [2]int{int(s.cfd), int(s.sfd)})
					mu.Unlock()
				})
			})
			if len(fds) != 1 {
				t.Fatalf("%d sessions, want 1", len(fds))
			}
			for side, want := range []int{tc.wantCliKA, tc.wantSrvKA} {
				fd := fds[0][side]
				if v, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY); err != nil || v == 0 {
					t.Errorf("side %d: TCP_NODELAY = %d, %v; want on", side, v, err)
				}
				v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
				if err != nil || (v != 0) != (want != 0) {
					t.Errorf("side %d: SO_KEEPALIVE = %d, %v; want %d", side, v, err, want)
				}
			}
		})
	}
}
