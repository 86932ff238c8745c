package proxy

import (
	"io"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"goproxy/internal/rawsys"
)

// TestSteadyTrafficAllocations holds the data path to its design: moving
// bytes on established sessions allocates nothing per message (buffers are
// pooled, events and timers are reused), so the garbage collector has no
// work that grows with traffic.
func TestSteadyTrafficAllocations(t *testing.T) {
	be := startServer(t, echo)
	g := startGraph(t, config(listenProxy(be.port())))
	addr := feAddr(t, g, "li")
	const conns, msgs = 20, 300
	var cs []io.ReadWriter
	for i := 0; i < conns; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "warm-up")
		cs = append(cs, c)
	}
	req := make([]byte, 150)
	resp := make([]byte, 150)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	deadline := time.Now().Add(30 * time.Second)
	for m := 0; m < msgs && time.Now().Before(deadline); m++ {
		for _, c := range cs {
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range cs {
			if _, err := io.ReadFull(c, resp); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.ReadMemStats(&after)
	perMsg := float64(after.Mallocs-before.Mallocs) / float64(conns*msgs)
	t.Logf("%.2f allocations per proxied message (both directions, test client included)", perMsg)
	// The test's own client (net.Conn reads and writes through the Go
	// poller) allocates nothing per call either; leave a small margin for
	// runtime background work.
	if perMsg > 0.5 {
		t.Errorf("%.2f allocations per message; the data path must not allocate per read", perMsg)
	}
}

// TestShortConnectionAllocations: accepting a client, connecting to its
// server, proxying a request and its answer and closing both allocate
// nothing in steady state (sessions and their records are reused), so
// that connection churn does not lift the heap and the process's RSS.
// Client and server use raw system calls, which allocate nothing either.
func TestShortConnectionAllocations(t *testing.T) {
	srvFD, srvPort := rawListener(t)
	stop := make(chan struct{})
	served := make(chan struct{})
	go func() {
		defer close(served)
		buf := make([]byte, 4)
		for {
			nfd, _, e := syscall.Syscall6(syscall.SYS_ACCEPT4, uintptr(srvFD), 0, 0, syscall.SOCK_CLOEXEC, 0, 0)
			if e != 0 {
				select {
				case <-stop:
					return
				default:
				}
				if e == syscall.EINTR || e == syscall.ECONNABORTED {
					continue
				}
				return
			}
			fd := int(nfd)
			if n, err := retryEINTR(func() (int, error) { return syscall.Read(fd, buf) }); err == nil && n > 0 {
				_, _ = retryEINTR(func() (int, error) { return syscall.Write(fd, buf[:n]) })
			}
			syscall.Close(fd)
		}
	}()
	t.Cleanup(func() {
		close(stop)
		syscall.Shutdown(srvFD, syscall.SHUT_RDWR)
		<-served
		syscall.Close(srvFD)
	})
	g := startGraph(t, config(listenProxy(srvPort)))
	fe := netip.MustParseAddrPort(feAddr(t, g, "li"))
	req, resp := []byte("ping"), make([]byte, 4)
	exchange := func() {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		err = rawsys.Connect(fd, fe)
		for i := 0; i < 5000 && (err == syscall.EINTR || err == syscall.EALREADY); i++ {
			time.Sleep(time.Millisecond) // an interrupted connect goes on
			err = rawsys.Connect(fd, fe)
		}
		if err != nil && err != syscall.EISCONN {
			t.Fatal(err)
		}
		if _, err := retryEINTR(func() (int, error) { return syscall.Write(fd, req) }); err != nil {
			t.Fatal(err)
		}
		if n, err := retryEINTR(func() (int, error) { return syscall.Read(fd, resp) }); err != nil || n != 4 {
			t.Fatalf("read %d bytes: %v", n, err)
		}
	}
	for i := 0; i < 300; i++ {
		exchange()
	}
	const conns = 3000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < conns; i++ {
		exchange()
	}
	runtime.ReadMemStats(&after)
	per := float64(after.Mallocs-before.Mallocs) / conns
	t.Logf("%.3f allocations per proxied connection (client and server included)", per)
	if per > 0.05 {
		t.Errorf("%.3f allocations per proxied connection; accept, connect and close must reuse what they need", per)
	}
}

// rawListener listens on a loopback port with raw system calls.
func rawListener(t *testing.T) (int, int) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 1024); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*syscall.SockaddrInet4).Port
}

// retryEINTR runs a blocking call again while the runtime's preemption
// signals interrupt it.
func retryEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}
