package proxy

import (
	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
)

// scratchSize is the size of a loop's read buffer.
const scratchSize = 32 << 10

// pumpRounds bounds the reads of one direction per wake-up, so that one
// busy session cannot starve the others; the session is then put on the
// loop's again list.
const pumpRounds = 16

// pump moves bytes both ways as far as the sockets allow, propagates
// half-closes, and ends the session when both directions are done.
func (s *session) pump() {
	for d := 0; d < 2 && s.state == stData; d++ {
		s.pumpDir(d)
	}
	if s.has(fSrvTimedOut) {
		s.srvWriteTimer()
	}
	for side := 0; side < 2 && s.state == stData; side++ {
		// A side that took every byte has no use for write interest;
		// dropped after the reads, the change finds no input left to
		// report again.
		if s.has(fOut(side)) && s.has(fW(side)) && s.pend[1-side] == nil {
			s.setOut(side, false)
		}
	}
	if s.state == stData && s.has(fShut0) && s.has(fShut1) {
		if s.has(fFailed) {
			s.finish(s.failTerm)
		} else {
			s.finish(termNormal)
		}
	}
}

// fail handles an error on side (a reset, a write the peer refused) while
// data flows. What side sent before its error is still read and delivered
// to the other side, as HAProxy forwards what its buffer holds, and the
// other side then gets its FIN; what was on its way to side is dropped,
// and the other side is no longer read. The session ends with side's
// abort state (CD, SD), counted at once, when nothing is left to deliver.
// A second error, on the other side, ends it at once.
func (s *session) fail(side int) {
	if s.has(fFailed) {
		if int(s.failSide) != side {
			s.finish(s.failTerm)
		}
		return
	}
	if s.has(fEOF(side)) && s.has(fShut(side)) {
		// Side had closed and all it sent was delivered: its error
		// (a reset for bytes sent after its close) ends the session as
		// a close, as HAProxy logs it.
		s.finish(termNormal)
		return
	}
	term := abortTerm(side)
	s.countAbort(side, term)
	s.flags |= fFailed
	s.failSide, s.failTerm = int8(side), term
	toward := 1 - side // the direction that writes to side
	if p := s.pend[toward]; p != nil {
		s.l.bufs.put(p)
		s.pend[toward] = nil
	}
	s.flags |= fEOF(toward) | fShut(toward) | fR(side)
	s.exp[side] = 0
	s.l.again1(s)
}

// pumpDir moves bytes in direction d: from side d to side 1-d.
func (s *session) pumpDir(d int) {
	src, dst := d, 1-d
	sfd, dfd := s.fdOf(src), s.fdOf(dst)
	l := s.l
	if p := s.pend[d]; p != nil {
		if !s.has(fW(dst)) {
			return
		}
		n, err := rawsys.Send(dfd, p.b[p.off:p.end])
		if err != nil {
			if err == unix.EAGAIN {
				s.blocked(dst)
				return
			}
			if err != unix.EINTR {
				s.fail(dst)
			}
			return
		}
		p.off += n
		s.touch(dst)
		if p.off < p.end {
			s.blocked(dst)
			return
		}
		l.bufs.put(p)
		s.pend[d] = nil
	}
	for i := 0; s.has(fR(src)) && !s.has(fEOF(d)) && !s.has(fHandoff); i++ {
		if i == pumpRounds {
			l.again1(s)
			break
		}
		n, err := rawsys.Recv(sfd, l.scratch)
		if err != nil {
			if err == unix.EAGAIN {
				s.flags &^= fR(src)
				break
			}
			if err == unix.EINTR {
				continue
			}
			// The kernel returns the bytes src sent before its error
			// first: its input ends here.
			s.fail(src)
			s.flags |= fEOF(d)
			break
		}
		if n == 0 {
			s.flags |= fEOF(d)
			break
		}
		s.count(d, int64(n))
		s.touch(src)
		w := 0
		if s.has(fW(dst)) {
			w, err = rawsys.Send(dfd, l.scratch[:n])
			if err != nil {
				if err != unix.EAGAIN && err != unix.EINTR {
					s.fail(dst) // the bytes for dst are dropped with it
					return
				}
				w = 0
			}
			if w > 0 {
				s.touch(dst)
			}
		}
		if w < n {
			s.pend[d] = l.bufs.get(l.scratch[w:n])
			s.blocked(dst)
			break
		}
		if n < len(l.scratch) && !s.has(fHup(src)) {
			// A short read emptied the socket: with edge-triggered
			// epoll the next bytes, or the FIN, bring a new event, so
			// the read that would only return EAGAIN is skipped.
			s.flags &^= fR(src)
			break
		}
	}
	if s.has(fEOF(d)) && s.pend[d] == nil && !s.has(fShut(d)) {
		// When the other direction is already done, the session ends
		// now and closing dst sends the same FIN: dst's peer has sent
		// its own FIN and everything before it was read.
		if !s.has(fShut(1 - d)) {
			rawsys.ShutdownWrite(dfd)
		}
		s.flags |= fShut(d)
		if s.finTimeout(dst) > 0 {
			// As HAProxy's half-closed timeout: the fin timeout now
			// applies to dst, from now. Without one, dst's timer keeps
			// counting from its last activity.
			s.touch(dst)
		}
	}
}

// blocked records that side takes no more bytes for now: the loop waits
// for EPOLLOUT on it. Without write interest the session could never
// resume, so a failure to take it fails the side.
func (s *session) blocked(side int) {
	s.flags &^= fW(side)
	s.setOut(side, true)
}

// setOut takes or drops the write interest of side (see fCliOut).
func (s *session) setOut(side int, on bool) {
	if s.has(fOut(side)) == on {
		return
	}
	if err := s.l.setWriteInterest(s.fdOf(side), on); err != nil {
		if on {
			s.l.g.log.WithError(err).Warn("cannot wait for a socket to become writable")
			s.fail(side)
		}
		return
	}
	s.flags ^= fOut(side)
}

// fdOf returns the descriptor of a side.
func (s *session) fdOf(side int) int {
	if side == 0 {
		return int(s.cfd)
	}
	return int(s.sfd)
}

// abortTerm is the termination state of an error on side.
func abortTerm(side int) [2]byte {
	if side == 0 {
		return termCliAbort
	}
	return termSrvAbort
}

// count adds n bytes that flowed in direction d to every counter concerned.
func (s *session) count(d int, n int64) {
	s.bytes[d] += n
	if d == 0 {
		s.fe.ctr.bin.Add(n)
		s.be.ctr.bin.Add(n)
		s.srv.ctr.bin.Add(n)
		if s.ln.stats {
			s.ln.ctr.bin.Add(n)
		}
		return
	}
	s.fe.ctr.bout.Add(n)
	s.be.ctr.bout.Add(n)
	s.srv.ctr.bout.Add(n)
	if s.ln.stats {
		s.ln.ctr.bout.Add(n)
	}
}

// pbuf holds bytes waiting for a slow receiver: b[off:end].
type pbuf struct {
	b        []byte
	off, end int
	class    int8
}

// Buffer size classes.
var bufClasses = [...]int{2 << 10, 16 << 10, 64 << 10}

// maxFreeBufs caps each class's free list.
const maxFreeBufs = 256

// bufPool is a loop's free lists of pending buffers, one per size class.
type bufPool struct {
	free [len(bufClasses)][]*pbuf
}

// get returns a buffer holding a copy of data (len(data) <= 64 KiB).
func (p *bufPool) get(data []byte) *pbuf {
	c := 0
	for c < len(bufClasses)-1 && bufClasses[c] < len(data) {
		c++
	}
	var b *pbuf
	if n := len(p.free[c]); n > 0 {
		b = p.free[c][n-1]
		p.free[c][n-1] = nil
		p.free[c] = p.free[c][:n-1]
	} else {
		b = &pbuf{b: make([]byte, bufClasses[c]), class: int8(c)}
	}
	b.off, b.end = 0, copy(b.b, data)
	return b
}

// put gives a buffer back.
func (p *bufPool) put(b *pbuf) {
	c := b.class
	if len(p.free[c]) < maxFreeBufs {
		p.free[c] = append(p.free[c], b)
	}
}
