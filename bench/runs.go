package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// setup starts the backends, picks the proxy ports and writes the config.
func (b *bench) setup() error {
	for i := 1; i <= 8; i++ {
		b.sources = append(b.sources, net.IPv4(127, 0, 0, byte(i)))
	}
	const connLife = 10 * time.Minute
	var err error
	if b.sink, err = startSink(connLife); err != nil {
		return err
	}
	if b.echo, err = listenBackend(64, 64); err != nil {
		return err
	}
	if b.msg, err = listenBackend(150, 30); err != nil {
		return err
	}
	b.fe = map[string]string{}
	var routes []route
	for _, r := range []struct {
		name, server, balance string
	}{{"bulk", b.sink.addr(), "roundrobin"}, {"short", b.echo.addr, "roundrobin"}, {"msg", b.msg.addr, "source"}} {
		addr, err := freePort()
		if err != nil {
			return err
		}
		b.fe[r.name] = addr
		routes = append(routes, route{Name: r.name, Listen: addr, Server: r.server, Balance: r.balance})
	}
	tlsRoutes, err := b.tlsSetup()
	if err != nil {
		return err
	}
	routes = append(routes, tlsRoutes...)
	text, err := proxyConfig(maxconnFor(b.conns, fdLimit()), routes)
	if err != nil {
		return err
	}
	b.cfg = filepath.Join(b.dir, "bench.cfg")
	return os.WriteFile(b.cfg, []byte(text), 0o644)
}

func (b *bench) teardown() {
	if b.sink != nil {
		b.sink.close()
	}
	b.echo.close()
	b.msg.close()
	b.tlsEcho.close()
}

// runOne starts a fresh proxy, runs one workload on it and stops it.
func (b *bench) runOne(t target, w string) (map[string]float64, error) {
	// Sessions of the previous run must be gone from the sink (the other
	// backends' connections end with the run's engine).
	if !b.sink.waitConns(0, 10*time.Second) {
		return nil, fmt.Errorf("backend %s still holds %d connections", b.sink.addr(), b.sink.cur.Load())
	}
	p, err := startProxy(t.name, t.bin, b.cfg, b.dir, b.proxyCPU, []string{b.fe["bulk"], b.fe["short"], b.fe["msg"], b.fe["tlsec"], b.fe["tlsrsa"], b.fe["tlsbulk"]})
	if err != nil {
		return nil, err
	}
	defer p.stop()
	out := map[string]float64{}
	switch w {
	case "tlshs":
		err = b.runTLSHS(p, out)
	case "tlsresume":
		err = b.runTLSHandshakes(p, "tlsec", "tlsresume.", true, out)
	case "tlsbulk":
		err = b.runTLSBulk(p, out)
	case "tlsidle":
		err = b.runTLSIdle(p, out)
	case "bulk1":
		err = b.runBulk(p, 1, out)
	case "bulk4":
		err = b.runBulk(p, 4, out)
	case "short":
		err = b.runShort(p, 32, out)
	case "msg1k":
		err = b.runPersistent(p, persistentSpec{prefix: "msg1k", conns: min(1000, b.conns)}, out)
	case "msg9k":
		err = b.runPersistent(p, persistentSpec{prefix: "msg9k", conns: b.conns, interval: time.Second, rss: true}, out)
	}
	if err == nil && p.exited() {
		err = fmt.Errorf("proxy exited during the run: %v%s", p.err, p.logTail())
	}
	return out, err
}

// sleep waits d, or less if the run is interrupted; it reports whether the
// whole d passed.
func (b *bench) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.done:
		return false
	}
}
