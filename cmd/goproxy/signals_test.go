package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/proxy"
)

// recGraph records the calls serveSignals makes.
type recGraph struct {
	mu    sync.Mutex
	calls []string
	done  chan struct{}
	once  sync.Once
}

func newRecGraph() *recGraph { return &recGraph{done: make(chan struct{})} }

func (g *recGraph) rec(s string) {
	g.mu.Lock()
	g.calls = append(g.calls, s)
	g.mu.Unlock()
}

func (g *recGraph) got() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.calls...)
}

func (g *recGraph) finish() { g.once.Do(func() { close(g.done) }) }

func (g *recGraph) Start() error              { g.rec("start"); return nil }
func (g *recGraph) StopListening()            { g.rec("stop-listening") }
func (g *recGraph) Pause()                    { g.rec("pause") }
func (g *recGraph) Resume()                   { g.rec("resume") }
func (g *recGraph) Close()                    { g.rec("close"); g.finish() }
func (g *recGraph) Done() <-chan struct{}     { return g.done }
func (g *recGraph) ListenerFiles() []*os.File { return nil }

func TestServeSignals(t *testing.T) {
	log, _ := test.NewNullLogger()
	tests := []struct {
		name      string
		sigs      []os.Signal
		hardStop  time.Duration
		endByDone bool // the graph finishes by itself after the signals
		want      []string
	}{
		{name: "pause resume then hard stop", sigs: []os.Signal{syscall.SIGTTOU, syscall.SIGTTIN, syscall.SIGTERM}, want: []string{"pause", "resume", "close"}},
		{name: "interrupt", sigs: []os.Signal{syscall.SIGINT}, want: []string{"close"}},
		{name: "soft stop waits for the graph", sigs: []os.Signal{syscall.SIGUSR1, syscall.SIGUSR1}, endByDone: true, want: []string{"stop-listening"}},
		{name: "hard stop during soft stop", sigs: []os.Signal{syscall.SIGUSR1, syscall.SIGTERM}, want: []string{"stop-listening", "close"}},
		{name: "hard-stop-after", sigs: []os.Signal{syscall.SIGUSR1}, hardStop: 50 * time.Millisecond, want: []string{"stop-listening", "close"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newRecGraph()
			ch := make(chan os.Signal, len(tt.sigs))
			for _, s := range tt.sigs {
				ch <- s
			}
			ended := make(chan struct{})
			go func() {
				serveSignals(g, ch, tt.hardStop, 0, log)
				close(ended)
			}()
			if tt.endByDone {
				time.Sleep(100 * time.Millisecond)
				select {
				case <-ended:
					t.Fatal("returned before the graph was done")
				default:
				}
				g.finish()
			}
			select {
			case <-ended:
			case <-time.After(5 * time.Second):
				t.Fatalf("serveSignals did not return; calls %v", g.got())
			}
			if got := g.got(); joinCalls(got) != joinCalls(tt.want) {
				t.Errorf("calls = %v, want %v", got, tt.want)
			}
		})
	}
}

func joinCalls(s []string) string {
	out := ""
	for _, x := range s {
		out += x + ","
	}
	return out
}

// TestGraceDelaysSoftStop: with "grace", SIGUSR1 leaves the listeners
// accepting for the grace time, then the soft stop proceeds.
func TestGraceDelaysSoftStop(t *testing.T) {
	log, _ := test.NewNullLogger()
	g := newRecGraph()
	ch := make(chan os.Signal, 1)
	ch <- syscall.SIGUSR1
	ended := make(chan struct{})
	go func() {
		serveSignals(g, ch, 0, 300*time.Millisecond, log)
		close(ended)
	}()
	time.Sleep(100 * time.Millisecond)
	if got := g.got(); len(got) != 0 {
		t.Fatalf("during the grace time: %v, want nothing yet", got)
	}
	waitFor(t, 3*time.Second, "the soft stop after the grace time", func() bool { return len(g.got()) == 1 })
	if got := g.got(); got[0] != "stop-listening" {
		t.Errorf("after the grace time: %v, want stop-listening", got)
	}
	g.finish()
	<-ended
}

// TestSIGQUITKeepsServing: SIGQUIT dumps the pools line and the process
// goes on, as HAProxy (Go's default would end it with a goroutine dump).
func TestSIGQUITKeepsServing(t *testing.T) {
	ss := nameServers(t, 1)
	addr, p := e2eCfg{servers: srvLines(ss, []int{1})}.run(t)
	if err := syscall.Kill(p.pid(), syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the pools line", func() bool {
		return strings.Contains(p.out.String(), "Dumping pools usage. Use SIGQUIT to flush them.\n")
	})
	if name, err := ask("127.0.0.2", addr); err != nil || name != "s1" || !p.running() {
		t.Errorf("after SIGQUIT: %q %v, running %v", name, err, p.running())
	}
}

// TestAddrInUse: a bind error is recognised by its errno, wrapped by the
// runtime's bind errors, never by its text.
func TestAddrInUse(t *testing.T) {
	bind := &proxy.BindError{Msg: "Binding [f.cfg:3] for proxy li: cannot bind socket (Address already in use) for [127.0.0.1:80]", Err: syscall.EADDRINUSE}
	if !addrInUse(bind) || !addrInUse(fmt.Errorf("start: %w", bind)) {
		t.Fatal("a wrapped EADDRINUSE is not recognised")
	}
	if addrInUse(errors.New("cannot bind socket (Address already in use)")) {
		t.Fatal("an error without the errno is taken for one by its text")
	}
	if addrInUse(&proxy.BindError{Msg: "cannot bind socket (Permission denied)", Err: syscall.EACCES}) {
		t.Fatal("EACCES taken for an address in use")
	}
}
