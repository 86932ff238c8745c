package stats

import (
	"net"

	"goproxy/internal/sockxfer"
)

// sendListeners answers "_getsocks": on a socket with expose-fd listeners
// it hands the process's listening sockets to the client (a new process
// started with -x), with HAProxy's exchange; elsewhere, as HAProxy, it
// closes the connection without a word. Either way the session ends.
func (s *session) sendListeners() {
	s.quit = true
	uc, ok := s.conn.(*net.UnixConn)
	if !s.exposeFD || !ok || s.srv.Listeners == nil {
		return
	}
	if err := sockxfer.Serve(uc, s.srv.Listeners()); err != nil {
		s.srv.log.WithError(err).Warn("Failed to transfer sockets")
	}
}
