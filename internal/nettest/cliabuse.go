package nettest

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// CLIAbuse is a crowd of misbehaving local clients of a stats socket, of
// four kinds in turn: random binary written without reading the answers,
// 1 MB lines, an endless line without a newline, and "show stat\n" sent
// one byte every 200 ms. Each client reconnects when its connection ends,
// until Stop.
type CLIAbuse struct {
	path     string
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	connects atomic.Int64
}

// Abuser kinds, in the order StartCLIAbuse deals them out.
const (
	AbuseRandom = iota
	AbuseBigLines
	AbuseEndless
	AbuseTrickle
	abuseKinds
)

// StartCLIAbuse starts n abusers on the unix socket path. They are stopped
// when the test ends if Stop was not called before.
func StartCLIAbuse(t testing.TB, path string, n int) *CLIAbuse {
	t.Helper()
	a := &CLIAbuse{path: path, stop: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	for i := range n {
		a.wg.Add(1)
		go a.run(i%abuseKinds, int64(i))
	}
	t.Cleanup(a.Stop)
	return a
}

// Connects is the number of connections the abusers made so far.
func (a *CLIAbuse) Connects() int64 { return a.connects.Load() }

// Open is the number of abuser connections open now.
func (a *CLIAbuse) Open() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.conns)
}

// Stop closes every abuser connection and waits for the abusers to end.
// It may be called more than once.
func (a *CLIAbuse) Stop() {
	a.mu.Lock()
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	for c := range a.conns {
		c.Close()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

func (a *CLIAbuse) stopped() bool {
	select {
	case <-a.stop:
		return true
	default:
		return false
	}
}

func (a *CLIAbuse) run(kind int, seed int64) {
	defer a.wg.Done()
	rng := rand.New(rand.NewSource(seed))
	for !a.stopped() {
		c, err := net.DialTimeout("unix", a.path, time.Second)
		if err != nil {
			a.pause(20 * time.Millisecond)
			continue
		}
		a.mu.Lock()
		if a.stopped() {
			a.mu.Unlock()
			c.Close()
			return
		}
		a.conns[c] = struct{}{}
		a.mu.Unlock()
		a.connects.Add(1)
		a.abuse(c, kind, rng)
		c.Close()
		a.mu.Lock()
		delete(a.conns, c)
		a.mu.Unlock()
		a.pause(10 * time.Millisecond)
	}
}

func (a *CLIAbuse) pause(d time.Duration) {
	select {
	case <-a.stop:
	case <-time.After(d):
	}
}

var bigLine = []byte("show stat " + strings.Repeat("a", 1<<20) + "\n")

// abuse misbehaves on c until the server closes it or Stop.
func (a *CLIAbuse) abuse(c net.Conn, kind int, rng *rand.Rand) {
	buf := make([]byte, 4096)
	if kind == AbuseEndless {
		copy(buf, bytes.Repeat([]byte("x"), len(buf)))
	}
	trickle := "show stat\n"
	for i := 0; !a.stopped(); i++ {
		var err error
		switch kind {
		case AbuseRandom:
			rng.Read(buf)
			err = write(c, buf, 100*time.Millisecond)
		case AbuseBigLines:
			err = write(c, bigLine, time.Second)
		case AbuseEndless:
			err = write(c, buf, 100*time.Millisecond)
		case AbuseTrickle:
			err = write(c, []byte{trickle[i%len(trickle)]}, time.Second)
			a.pause(200 * time.Millisecond)
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
		if kind != AbuseRandom {
			// Notice a close by the server (the writes may still fit in
			// the socket buffer), without reading an answer.
			_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(buf[:1]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
		}
	}
}

// write writes p with a deadline; a timeout (the server not reading) is
// returned as os.ErrDeadlineExceeded and the abuser keeps the connection.
func write(c net.Conn, p []byte, d time.Duration) error {
	_ = c.SetWriteDeadline(time.Now().Add(d))
	_, err := c.Write(p)
	return err
}

// Timing collects durations and summarizes them.
type Timing []time.Duration

// Max is the longest duration (0 if none).
func (ts Timing) Max() time.Duration {
	var m time.Duration
	for _, d := range ts {
		m = max(m, d)
	}
	return m
}

// Median is the middle duration (0 if none).
func (ts Timing) Median() time.Duration {
	if len(ts) == 0 {
		return 0
	}
	s := append(Timing(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// AskUnix sends cmd on the unix socket path and reads the answer until the
// server closes, within d. It returns the answer and the time taken from
// the connect to the end of the answer.
func AskUnix(path, cmd string, d time.Duration) (string, time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("unix", path, d)
	if err != nil {
		return "", time.Since(start), err
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(d))
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", time.Since(start), err
	}
	b, err := io.ReadAll(c)
	return string(b), time.Since(start), err
}
