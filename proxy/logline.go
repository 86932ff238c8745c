package proxy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ConnectLine is the line HAProxy logs when it accepts a connection on a
// frontend without "option tcplog":
// "Connect from 127.0.0.1:48697 to 127.0.0.1:41999 (fe/TCP)".
func ConnectLine(client, local netip.AddrPort, frontend string) string {
	return fmt.Sprintf("Connect from %s to %s (%s/TCP)", logAddr(client), logAddr(local), frontend)
}

// logAddr writes an address as HAProxy's logs do: an IPv6 one without
// brackets ("::1:5000").
func logAddr(ap netip.AddrPort) string {
	return ap.Addr().Unmap().String() + ":" + strconv.Itoa(int(ap.Port()))
}

// TCPLogRecord holds what HAProxy's TCP log format prints about a session:
// %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
type TCPLogRecord struct {
	Client   netip.AddrPort
	Accept   time.Time
	Frontend string
	Backend  string // the frontend name when no backend was chosen
	Server   string // empty: <NOSRV>
	// Tw, Tc, Tt are milliseconds; -1 when the stage was never reached.
	Tw, Tc, Tt   int64
	BytesOut     int64  // bytes sent to the client
	Term         string // two characters, "--" for a normal end
	ActConn      int64  // process-wide concurrent connections at log time
	FeConn       int64
	BeConn       int64
	SrvConn      int64
	Retries      int
	Redispatched bool
	SrvQueue     int64
	BeQueue      int64
	// ASAP is option logasap: Tt and the byte count are prefixed with '+',
	// as they may not be final.
	ASAP bool
}

// String renders the record as HAProxy's tcplog line.
func (r *TCPLogRecord) String() string {
	var b strings.Builder
	b.Grow(128)
	b.WriteString(logAddr(r.Client))
	b.WriteString(" [")
	b.WriteString(r.Accept.Format("02/Jan/2006:15:04:05.000"))
	b.WriteString("] ")
	b.WriteString(r.Frontend)
	b.WriteByte(' ')
	b.WriteString(r.Backend)
	b.WriteByte('/')
	if r.Server == "" {
		b.WriteString("<NOSRV>")
	} else {
		b.WriteString(r.Server)
	}
	if r.ASAP {
		fmt.Fprintf(&b, " %d/%d/+%d +%d ", r.Tw, r.Tc, r.Tt, r.BytesOut)
	} else {
		fmt.Fprintf(&b, " %d/%d/%d %d ", r.Tw, r.Tc, r.Tt, r.BytesOut)
	}
	term := r.Term
	if len(term) != 2 {
		term = "--"
	}
	b.WriteString(term)
	fmt.Fprintf(&b, " %d/%d/%d/%d/", r.ActConn, r.FeConn, r.BeConn, r.SrvConn)
	if r.Redispatched {
		b.WriteByte('+')
	}
	b.WriteString(strconv.Itoa(r.Retries))
	fmt.Fprintf(&b, " %d/%d", r.SrvQueue, r.BeQueue)
	return b.String()
}

// ProxyStoppedLine is logged (warning) for each proxy at soft stop.
func ProxyStoppedLine(name string, feConns, beConns int64) string {
	return fmt.Sprintf("Proxy %s stopped (cumulated conns: FE: %d, BE: %d).", name, feConns, beConns)
}
