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
	if b.sink, err = startBackend(sinkBackend, 0, 0, connLife); err != nil {
		return err
	}
	if b.echo, err = startBackend(replyBackend, 64, 64, connLife); err != nil {
		return err
	}
	if b.msg, err = startBackend(replyBackend, 150, 30, connLife); err != nil {
		return err
	}
	b.fe = map[string]string{}
	var routes []route
	for _, r := range []struct {
		name    string
		be      *backend
		balance string
	}{{"bulk", b.sink, "roundrobin"}, {"short", b.echo, "roundrobin"}, {"msg", b.msg, "source"}} {
		addr, err := freePort()
		if err != nil {
			return err
		}
		b.fe[r.name] = addr
		routes = append(routes, route{Name: r.name, Listen: addr, Server: r.be.addr(), Balance: r.balance})
	}
	text, err := proxyConfig(maxconnFor(b.conns, fdLimit()), routes)
	if err != nil {
		return err
	}
	b.cfg = filepath.Join(b.dir, "bench.cfg")
	return os.WriteFile(b.cfg, []byte(text), 0o644)
}

func (b *bench) teardown() {
	for _, be := range []*backend{b.sink, b.echo, b.msg} {
		if be != nil {
			be.close()
		}
	}
}

// runOne starts a fresh proxy, runs one workload on it and stops it.
func (b *bench) runOne(t target, w string) (map[string]float64, error) {
	// Sessions of the previous run must be gone from the backends.
	for _, be := range []*backend{b.sink, b.echo, b.msg} {
		if !be.waitConns(0, 10*time.Second) {
			return nil, fmt.Errorf("backend %s still holds %d connections", be.addr(), be.cur.Load())
		}
	}
	p, err := startProxy(t.name, t.bin, b.cfg, b.dir, b.proxyCPU, []string{b.fe["bulk"], b.fe["short"], b.fe["msg"]})
	if err != nil {
		return nil, err
	}
	defer p.stop()
	out := map[string]float64{}
	switch w {
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
