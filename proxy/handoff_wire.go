package proxy

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/sockxfer"
)

// The handoff exchange, on the old process's abstract socket:
//
//	new: "HANDOFF 1\n"
//	old: batches: a 4-byte big-endian length, then that many bytes of a
//	     JSON array of records, the descriptors of the batch's sessions
//	     (client, server, client, server...) attached as SCM_RIGHTS; a
//	     length of 0 ends the handoff
//	new: after each batch, the 4-byte count of sessions it took
//
// One batch is in flight at a time, so that descriptors of two batches
// never share a read.

const (
	handoffRequest = "HANDOFF 1\n"
	// handoffBatch bounds the sessions of a batch (two descriptors each,
	// under the kernel's 253 per message).
	handoffBatch = 100
	// handoffWindow bounds the time the old process waits for sessions to
	// become ready (established, buffers empty); those that are not by
	// then are served to their end by the old process.
	handoffWindow = 2 * time.Second
	// handoffIO bounds each read and write of the exchange.
	handoffIO = 5 * time.Second
	// maxHandoffBody bounds a batch's records.
	maxHandoffBody = 1 << 20
)

// ServeHandoffs makes the graph take handoff requests from a newer
// process on HandoffAddr(os.Getpid()), until Close or the end of its last
// session. Only a process of the same user (or root) is served.
func (g *Graph) ServeHandoffs() error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: HandoffAddr(os.Getpid()), Net: "unix"})
	if err != nil {
		return fmt.Errorf("session handoff socket: %w", err)
	}
	go func() {
		<-g.done
		ln.Close()
	}()
	go func() {
		for {
			c, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			go g.serveHandoff(c)
		}
	}()
	return nil
}

// serveHandoff runs one handoff request.
func (g *Graph) serveHandoff(c *net.UnixConn) {
	defer c.Close()
	if !samePeer(c) {
		g.log.Warn("session handoff refused: the requesting process belongs to another user")
		return
	}
	_ = c.SetDeadline(time.Now().Add(handoffIO))
	line, err := bufio.NewReaderSize(c, 64).ReadString('\n')
	if err != nil || line != handoffRequest {
		return
	}
	g.handoffMu.Lock()
	defer g.handoffMu.Unlock()
	g.StopListening()
	n, err := g.handOff(c)
	if err != nil {
		g.log.WithError(err).Warnf("session handoff stopped after %d sessions; the others stay here", n)
		return
	}
	g.log.Infof("session handoff: %d sessions handed to the new process", n)
}

// samePeer reports whether c's peer runs as this process's user or root.
func samePeer(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return false
	}
	return cred.Uid == 0 || int(cred.Uid) == os.Getuid()
}

// handOff hands the established sessions over c in passes and returns how
// many the new process took. Sessions not handed over (not ready within
// the window, or after an error) read again and are served here.
func (g *Graph) handOff(c *net.UnixConn) (int, error) {
	defer g.onLoops(func(l *loop) { l.resumeReading() })
	total := 0
	deadline := time.Now().Add(handoffWindow)
	for pass := 0; time.Now().Before(deadline) && pass < 1<<16; pass++ {
		var frozen []handed
		var mu sync.Mutex
		g.onLoops(func(l *loop) {
			got := l.freezeForHandoff(handoffBatch)
			mu.Lock()
			frozen = append(frozen, got...)
			mu.Unlock()
		})
		if len(frozen) == 0 {
			if g.cur.Load() == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for start := 0; start < len(frozen); start += handoffBatch {
			batch := frozen[start:min(start+handoffBatch, len(frozen))]
			took, err := sendHandoffBatch(c, batch)
			if err != nil || took != len(batch) {
				g.settleHanded(frozen[start:], false)
				return total, errors.Join(err, errIf(took != len(batch), "the new process took %d of %d sessions", took, len(batch)))
			}
			g.settleHanded(batch, true)
			total += took
		}
	}
	var end [4]byte
	_ = c.SetDeadline(time.Now().Add(handoffIO))
	_, _ = c.Write(end[:])
	return total, nil
}

// settleHanded releases (taken) or thaws sessions in their own loops.
func (g *Graph) settleHanded(list []handed, taken bool) {
	byLoop := map[*loop][]handed{}
	for _, h := range list {
		byLoop[h.s.l] = append(byLoop[h.s.l], h)
	}
	var wg sync.WaitGroup
	for l, hs := range byLoop {
		wg.Add(1)
		ok := l.post(func(l *loop) {
			defer wg.Done()
			if taken {
				l.releaseHanded(hs)
			} else {
				l.thawHanded(hs)
			}
		})
		if !ok {
			wg.Done()
		}
	}
	wg.Wait()
}

// sendHandoffBatch sends one batch and returns how many sessions the new
// process says it took.
func sendHandoffBatch(c *net.UnixConn, batch []handed) (int, error) {
	recs := make([]handoffRecord, len(batch))
	fds := make([]int, 0, 2*len(batch))
	for i, h := range batch {
		recs[i] = h.rec
		fds = append(fds, h.cfd, h.sfd)
	}
	body, err := json.Marshal(recs)
	if err != nil {
		return 0, err
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	msg = append(msg, body...)
	_ = c.SetDeadline(time.Now().Add(handoffIO))
	n, _, err := c.WriteMsgUnix(msg, unix.UnixRights(fds...), nil)
	if err != nil {
		return 0, fmt.Errorf("send a batch: %w", err)
	}
	if n != len(msg) {
		return 0, fmt.Errorf("send a batch: %d of %d bytes", n, len(msg))
	}
	var ack [4]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		return 0, fmt.Errorf("wait for the batch's answer: %w", err)
	}
	return int(binary.BigEndian.Uint32(ack[:])), nil
}

// PullSessions asks the old process pid for its established sessions
// (its configuration had session-handoff) and adopts them. It returns the
// sessions adopted and those cut because the new configuration has no
// place for them (their frontend, listener, backend or server is gone).
func (g *Graph) PullSessions(pid int) (adopted, cut int, err error) {
	var c *net.UnixConn
	for i := 0; i < 50; i++ {
		c, err = net.DialUnix("unix", nil, &net.UnixAddr{Name: HandoffAddr(pid), Net: "unix"})
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("connect to process %d for the handoff: %w", pid, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(handoffIO))
	if _, err := c.Write([]byte(handoffRequest)); err != nil {
		return 0, 0, err
	}
	for batches := 0; batches < 1<<20; batches++ {
		recs, fds, err := readHandoffBatch(c)
		if err != nil {
			return adopted, cut, err
		}
		if recs == nil {
			return adopted, cut, nil
		}
		var ack [4]byte
		binary.BigEndian.PutUint32(ack[:], uint32(len(recs)))
		_ = c.SetDeadline(time.Now().Add(handoffIO))
		if _, err := c.Write(ack[:]); err != nil {
			// The old process may still take them back: ours are only
			// copies, closed here.
			for _, fd := range fds {
				unix.Close(fd)
			}
			return adopted, cut, err
		}
		a, k := g.adoptBatch(recs, fds)
		adopted += a
		cut += k
	}
	return adopted, cut, errors.New("handoff: too many batches")
}

// readHandoffBatch reads one batch: nil records at the end of the
// handoff.
func readHandoffBatch(c *net.UnixConn) ([]handoffRecord, []int, error) {
	_ = c.SetDeadline(time.Now().Add(handoffIO))
	var head [4]byte
	oob := make([]byte, unix.CmsgSpace(4*2*handoffBatch))
	var fds []int
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	for off := 0; off < len(head); {
		n, oobn, _, _, err := c.ReadMsgUnix(head[off:], oob)
		got, perr := sockxfer.Rights(oob[:oobn])
		fds = append(fds, got...)
		if err != nil || perr != nil {
			closeAll()
			return nil, nil, errors.Join(err, perr)
		}
		if n == 0 {
			closeAll()
			return nil, nil, io.ErrUnexpectedEOF
		}
		off += n
	}
	size := binary.BigEndian.Uint32(head[:])
	if size == 0 {
		closeAll()
		return nil, nil, nil
	}
	if size > maxHandoffBody {
		closeAll()
		return nil, nil, fmt.Errorf("handoff batch of %d bytes", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(c, body); err != nil {
		closeAll()
		return nil, nil, err
	}
	var recs []handoffRecord
	if err := json.Unmarshal(body, &recs); err != nil || len(fds) != 2*len(recs) || len(recs) == 0 {
		closeAll()
		return nil, nil, fmt.Errorf("handoff batch: %d records, %d descriptors (%v)", len(recs), len(fds), err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
	return recs, fds, nil
}

// adoptBatch spreads a batch's sessions over the loops. A session whose
// listener, backend or server the configuration no longer has is cut (its
// descriptors closed), with a warning naming it.
func (g *Graph) adoptBatch(recs []handoffRecord, fds []int) (adopted, cut int) {
	g.mu.Lock()
	loops := g.loops
	g.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		cfd, sfd := fds[2*i], fds[2*i+1]
		ln, be, srv := g.handoffPlace(r)
		if ln == nil || be == nil || srv == nil || len(loops) == 0 {
			g.log.Warnf("session handoff: the session of %s on %s/%s is cut: the new configuration has no %s/%s", r.Src, r.Frontend, r.Listener, r.Backend, r.Server)
			unix.Close(cfd)
			unix.Close(sfd)
			cut++
			continue
		}
		l := loops[int(g.handoffSeq.Add(1))%len(loops)]
		if !l.post(func(l *loop) { l.adoptHanded(r, ln, be, srv, cfd, sfd) }) {
			unix.Close(cfd)
			unix.Close(sfd)
			cut++
			continue
		}
		adopted++
	}
	return adopted, cut
}

// handoffPlace finds the listener, backend and server of a handed-over
// session by name in this graph.
func (g *Graph) handoffPlace(r *handoffRecord) (*Listener, *Backend, *Server) {
	fe := g.Frontend(r.Frontend)
	be := g.Backend(r.Backend)
	if fe == nil || be == nil {
		return nil, nil, nil
	}
	var ln *Listener
	for _, l := range fe.Listeners {
		if l.Name == r.Listener {
			ln = l
		}
	}
	if ln == nil && len(fe.Listeners) > 0 {
		ln = fe.Listeners[0]
	}
	for _, s := range be.ServerList() {
		if s.Name == r.Server {
			return ln, be, s
		}
	}
	return ln, be, nil
}

// errIf returns an error built from format when cond holds, nil otherwise.
func errIf(cond bool, format string, args ...any) error {
	if !cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}
