package resolver

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// streamNS is a TCP nameserver (tcp@): one connection kept open, dialed
// when a query is to be sent and again after an error, every message
// behind its 2-byte length. Its goroutine (run) owns the connection and
// the connection's reader.
type streamNS struct {
	ns      *nameserver
	addr    netip.AddrPort
	timeout time.Duration // to connect and to write
	out     chan []byte   // queries to send
}

// streamQueue bounds the queries waiting for the connection.
const streamQueue = 256

func newStreamNS(ns *nameserver, timeout time.Duration) *streamNS {
	return &streamNS{ns: ns, addr: ns.addr, timeout: min(max(timeout, 100*time.Millisecond), 5*time.Second),
		out: make(chan []byte, streamQueue)}
}

// send queues a query; false when the queue is full.
func (st *streamNS) send(q []byte) bool {
	select {
	case st.out <- q:
		return true
	default:
		return false
	}
}

// run sends the queued queries until ctx is done, passing the answers
// read to in.
func (st *streamNS) run(ctx context.Context, in chan<- response) {
	var conn net.Conn
	var readers sync.WaitGroup
	broken := make(chan net.Conn, 1)
	defer func() {
		if conn != nil {
			conn.Close()
		}
		readers.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-broken:
			if c == conn {
				conn.Close()
				conn = nil
			}
		case q := <-st.out:
			if conn == nil {
				d := net.Dialer{Timeout: st.timeout}
				c, err := d.DialContext(ctx, "tcp", st.addr.String())
				if err != nil {
					st.ns.ctr.sndError.Add(1)
					continue
				}
				conn = c
				readers.Add(1)
				go func() {
					defer readers.Done()
					st.read(ctx, c, in, broken)
				}()
			}
			frame := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(q)), uint16(len(q)))
			frame = append(frame, q...)
			_ = conn.SetWriteDeadline(time.Now().Add(st.timeout))
			if _, err := conn.Write(frame); err != nil {
				st.ns.ctr.sndError.Add(1)
				conn.Close()
				conn = nil
			}
		}
	}
}

// read passes the answers of connection c to in until it fails, then
// reports it broken.
func (st *streamNS) read(ctx context.Context, c net.Conn, in chan<- response, broken chan<- net.Conn) {
	defer func() {
		select {
		case broken <- c:
		default:
		}
	}()
	var hdr [2]byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		buf := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(c, buf); err != nil {
			st.ns.ctr.anyErr.Add(1)
			return
		}
		select {
		case in <- response{ns: st.ns, buf: buf}:
		case <-ctx.Done():
			return
		}
	}
}
