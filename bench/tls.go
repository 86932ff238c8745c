package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TLS workloads: both proxies terminate TLS with the same certificate
// files (generated here) and forward plaintext to the harness's servers.
//
//	tlshs      full handshakes: connect, TLS 1.3 handshake, 64 B each way,
//	           close, 16 at a time, with an ECDSA P-256 and an RSA 2048
//	           certificate: handshakes/s, CPU-s per 1k handshakes
//	tlsresume  the same with session resumption (TLS 1.3 tickets)
//	tlsbulk    one stream of 64 KiB writes through a terminated connection:
//	           Gbit/s, CPU-s per GB
//	tlsidle    N idle terminated connections (N fits goproxy's four
//	           descriptors per TLS connection under the fd limit): proxy RSS
//	           growth per connection
//
// The clients are Go's crypto/tls in the harness, on the harness's CPU: a
// rate the harness cannot push further shows as a harness busy near 100%
// (second table); CPU-s per unit of work is the proxy's own either way.

var tlsWorkloads = []string{"tlshs", "tlsresume", "tlsbulk", "tlsidle"}

var tlsRows = []metric{
	{key: "tlshs.ecrate", label: "TLS full handshakes, ECDSA P-256: /s"},
	{key: "tlshs.eccpu1k", label: "TLS full handshakes, ECDSA: CPU-s per 1k", lowerBetter: true},
	{key: "tlshs.rsarate", label: "TLS full handshakes, RSA 2048: /s"},
	{key: "tlshs.rsacpu1k", label: "TLS full handshakes, RSA: CPU-s per 1k", lowerBetter: true},
	{key: "tlsresume.rate", label: "TLS resumed handshakes (ECDSA): /s"},
	{key: "tlsresume.cpu1k", label: "TLS resumed handshakes: CPU-s per 1k", lowerBetter: true},
	{key: "tlsresume.resumedpct", label: "TLS resumed handshakes: % resumed"},
	{key: "tlsbulk.gbps", label: "TLS bulk, 1 stream: Gbit/s"},
	{key: "tlsbulk.cpugb", label: "TLS bulk, 1 stream: CPU-s per GB", lowerBetter: true},
	{key: "tlsidle.rssidle", label: "N idle TLS conns: RSS KiB per conn", lowerBetter: true},
}

// tlsSetup writes the certificates and starts the echo server of the TLS
// workloads, and returns their routes.
func (b *bench) tlsSetup() ([]route, error) {
	ec, err := writeBenchCert(b.dir, "ec.pem", false)
	if err != nil {
		return nil, err
	}
	rsaFile, err := writeBenchCert(b.dir, "rsa.pem", true)
	if err != nil {
		return nil, err
	}
	if b.tlsEcho, err = startEcho(); err != nil {
		return nil, err
	}
	var routes []route
	for _, r := range []struct{ name, cert, server string }{
		{"tlsec", ec, b.tlsEcho.ln.Addr().String()},
		{"tlsrsa", rsaFile, b.tlsEcho.ln.Addr().String()},
		{"tlsbulk", ec, b.sink.addr()},
	} {
		addr, err := freePort()
		if err != nil {
			return nil, err
		}
		b.fe[r.name] = addr
		routes = append(routes, route{Name: r.name, Listen: addr, Server: r.server, Balance: "roundrobin", BindOpts: "ssl crt " + r.cert})
	}
	return routes, nil
}

// writeBenchCert writes a self-signed certificate and its key.
func writeBenchCert(dir, name string, useRSA bool) (string, error) {
	var key crypto.Signer
	var err error
	if useRSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return "", err
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench.test"},
		DNSNames: []string{"bench.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		return "", err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, data, 0o600)
}

// echoServer answers 64 B for each 64 B, a goroutine per connection.
type echoServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startEcho() (*echoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &echoServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(time.Minute))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return s, nil
}

func (s *echoServer) close() {
	if s != nil {
		s.ln.Close()
		s.wg.Wait()
	}
}

// clientConf is the harness's TLS client configuration.
func clientConf(cache tls.ClientSessionCache) *tls.Config {
	return &tls.Config{ServerName: "bench.test", InsecureSkipVerify: true, ClientSessionCache: cache}
}

// handshakeOnce connects, shakes hands, exchanges 64 B and closes; it
// reports whether the session was resumed.
func (b *bench) handshakeOnce(i int, addr string, conf *tls.Config, buf []byte) (bool, error) {
	raw, err := b.dialer(i, 5*time.Second).Dial("tcp", addr)
	if err != nil {
		return false, err
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(raw, conf)
	if _, err := c.Write(buf); err != nil {
		return false, err
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		return false, err
	}
	return c.ConnectionState().DidResume, nil
}

// runTLSHandshakes measures handshakes on the route's frontend.
func (b *bench) runTLSHandshakes(p *proxyProc, route, prefix string, resume bool, out map[string]float64) error {
	const workers = 16
	var stop, measuring atomic.Bool
	var count, resumed, errs atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cache tls.ClientSessionCache
			if resume {
				cache = tls.NewLRUClientSessionCache(4)
			}
			conf := clientConf(cache)
			buf := make([]byte, 64)
			for i := w; !stop.Load(); i += workers {
				r, err := b.handshakeOnce(i, b.fe[route], conf, buf)
				if err != nil {
					if !stop.Load() {
						errs.Add(1)
					}
					continue
				}
				if measuring.Load() {
					count.Add(1)
					if r {
						resumed.Add(1)
					}
				}
			}
		}()
	}
	b.sleep(b.warmup)
	m, err := beginMeasure(p.pid())
	measuring.Store(true)
	if err == nil {
		if !b.sleep(b.duration) {
			err = errInterrupted
		} else {
			err = m.end(p.pid())
		}
	}
	measuring.Store(false)
	n := count.Load()
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return err
	}
	if e := errs.Load(); e > n/100 {
		return fmt.Errorf("%d handshakes failed (%d done)", e, n)
	}
	if n == 0 {
		return errors.New("no handshake completed")
	}
	m.cpuPercents(out, strings.SplitN(prefix, ".", 2)[0])
	out[prefix+"rate"] = float64(n) / m.elapsed.Seconds()
	out[prefix+"cpu1k"] = m.proxyUsed.Seconds() / (float64(n) / 1000)
	if resume {
		out[prefix+"resumedpct"] = 100 * float64(resumed.Load()) / float64(n)
	}
	return nil
}

// runTLSHS measures full handshakes with both certificates.
func (b *bench) runTLSHS(p *proxyProc, out map[string]float64) error {
	if err := b.runTLSHandshakes(p, "tlsec", "tlshs.ec", false, out); err != nil {
		return err
	}
	return b.runTLSHandshakes(p, "tlsrsa", "tlshs.rsa", false, out)
}

// runTLSBulk streams 64 KiB writes through one terminated connection.
func (b *bench) runTLSBulk(p *proxyProc, out map[string]float64) error {
	raw, err := b.dialer(0, 5*time.Second).Dial("tcp", b.fe["tlsbulk"])
	if err != nil {
		return err
	}
	c := tls.Client(raw, clientConf(nil))
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return err
	}
	var stop atomic.Bool
	var werr atomic.Value
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		_ = raw.SetWriteDeadline(time.Now().Add(b.warmup + b.duration + 10*time.Second))
		for !stop.Load() {
			if _, err := c.Write(buf); err != nil {
				if !stop.Load() {
					werr.Store(err)
				}
				return
			}
		}
	}()
	b.sleep(b.warmup)
	bytes0 := b.sink.bytes.Load()
	m, err := beginMeasure(p.pid())
	if err == nil {
		if !b.sleep(b.duration) {
			err = errInterrupted
		} else {
			err = m.end(p.pid())
		}
	}
	bytes1 := b.sink.bytes.Load()
	stop.Store(true)
	raw.Close()
	<-done
	if err != nil {
		return err
	}
	if e, ok := werr.Load().(error); ok {
		return fmt.Errorf("stream failed: %w", e)
	}
	moved := float64(bytes1 - bytes0)
	if moved <= 0 {
		return errors.New("no bytes reached the backend")
	}
	out["tlsbulk.gbps"] = moved * 8 / m.elapsed.Seconds() / 1e9
	out["tlsbulk.cpugb"] = m.proxyUsed.Seconds() / (moved / 1e9)
	m.cpuPercents(out, "tlsbulk")
	return nil
}

// tlsIdleConns is how many idle TLS connections tlsidle holds: the fd
// limit shared by goproxy's four descriptors per terminated connection
// (client, socket pair, server), at most 10,000.
func tlsIdleConns(limit int) int {
	const reserve = 300
	return max(1, min(10000, (limit-reserve)/4))
}

// runTLSIdle opens N terminated connections, sends one message on each
// and measures the proxy's RSS growth per connection once they idle.
func (b *bench) runTLSIdle(p *proxyProc, out map[string]float64) error {
	n := tlsIdleConns(fdLimit())
	runtime.GC()
	time.Sleep(300 * time.Millisecond)
	rss0, err := rssOf(p.pid())
	if err != nil {
		return err
	}
	conns := make([]*tls.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	conf := clientConf(nil)
	msg := make([]byte, 150)
	for i := range n {
		raw, err := b.dialer(i, 5*time.Second).Dial("tcp", b.fe["tlsbulk"])
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		c := tls.Client(raw, conf)
		_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(msg); err != nil {
			raw.Close()
			return fmt.Errorf("connection %d: %w", i, err)
		}
		_ = raw.SetDeadline(time.Time{})
		conns = append(conns, c)
		if i%500 == 0 {
			select {
			case <-b.done:
				return errInterrupted
			default:
			}
		}
	}
	// The sink has them all once the proxy forwarded every message.
	if !b.sink.waitConns(int64(n), 20*time.Second) {
		return fmt.Errorf("the backend holds %d of %d connections", b.sink.cur.Load(), n)
	}
	if !b.sleep(2 * time.Second) {
		return errInterrupted
	}
	rss1, err := rssOf(p.pid())
	if err != nil {
		return err
	}
	out["tlsidle.rssidle"] = float64(rss1-rss0) / 1024 / float64(n)
	out["tlsidle.conns"] = float64(n)
	return nil
}
