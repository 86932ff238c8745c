package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestE2ETLSRuntimeCertificate renews a certificate through the runtime
// API under traffic, on goproxy and haproxy: set ssl cert with a PEM
// payload, show ssl cert of the transaction, commit; new handshakes get
// the new certificate, the session established before goes on, and no
// handshake fails meanwhile.
func TestE2ETLSRuntimeCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	path, _ := ca.issue(t, dir, "site.pem", certOpts{cn: "site.test", dns: []string{"site.test"}})
	renewed, _ := ca.issue(t, dir, "renewed.pem", certOpts{cn: "site.test", dns: []string{"site.test", "www.site.test"}, rsa: true})
	newPEM, err := os.ReadFile(renewed)
	if err != nil {
		t.Fatal(err)
	}
	newSerial := fmt.Sprintf("%X", firstCert(t, newPEM).SerialNumber.Bytes())
	onOracles(t, func(t *testing.T, bin string) {
		sock := filepath.Join(t.TempDir(), "cli.sock")
		ss := nameServers(t, 1)
		c := e2eCfg{global: []string{"stats socket " + sock + " level admin"}, servers: srvLines(ss, []int{1})}
		addr, _ := startTLSProxy(t, bin, c, "ssl crt "+path)
		conf := &tls.Config{ServerName: "site.test", RootCAs: ca.pool}
		old, _, err := tlsDial(addr, conf)
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		if name, err := readName(old); err != nil || name != "s1" {
			t.Fatalf("greeting %q, %v", name, err)
		}
		if got, want := cli(t, sock, "show ssl cert"), "# filename\n"+path+"\n\n"; got != want {
			t.Errorf("show ssl cert: %q, want %q", got, want)
		}
		// Handshakes under way during the renewal.
		var stop atomic.Bool
		var fails, done atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000 && !stop.Load(); i++ {
				c, _, err := tlsDial(addr, conf)
				if err != nil {
					fails.Add(1)
					continue
				}
				c.Close()
				done.Add(1)
			}
		}()
		if got, want := cli(t, sock, "set ssl cert "+path+" <<\n"+string(newPEM)), "Transaction created for certificate "+path+"!\n\n"; got != want {
			t.Errorf("set ssl cert: %q, want %q", got, want)
		}
		list := cli(t, sock, "show ssl cert")
		if want := "# transaction\n*" + path + "\n# filename\n" + path + "\n\n"; list != want {
			t.Errorf("show ssl cert during the transaction: %q, want %q", list, want)
		}
		detail := cli(t, sock, "show ssl cert *"+path)
		for _, want := range []string{"Filename: *" + path + "\n", "Status: Unused\n", "Serial: " + newSerial + "\n",
			"Subject Alternative Name: DNS:site.test, DNS:www.site.test\n", "Algorithm: RSA2048\n",
			"Subject: /O=goproxy tests/CN=site.test\n", "Issuer: /O=goproxy tests/CN=ca\n"} {
			if !strings.Contains(detail, want) {
				t.Errorf("show ssl cert *%s: no %q in\n%s", path, want, detail)
			}
		}
		if got, want := cli(t, sock, "commit ssl cert "+path), "Committing "+path+".\nSuccess!\n\n"; !strings.HasPrefix(got, "Committing "+path) || !strings.HasSuffix(got, "Success!\n\n") {
			t.Errorf("commit ssl cert: %q, want %q", got, want)
		}
		time.Sleep(100 * time.Millisecond)
		stop.Store(true)
		wg.Wait()
		if fails.Load() > 0 || done.Load() == 0 {
			t.Errorf("handshakes during the renewal: %d failed, %d done", fails.Load(), done.Load())
		}
		c2, _, err := tlsDial(addr, conf)
		if err != nil {
			t.Fatal(err)
		}
		serial := fmt.Sprintf("%X", c2.ConnectionState().PeerCertificates[0].SerialNumber.Bytes())
		c2.Close()
		if serial != newSerial {
			t.Errorf("new handshakes get serial %s, want the renewed %s", serial, newSerial)
		}
		if err := echoRoundTrip(old, "still here\n"); err != nil {
			t.Errorf("session established before the renewal: %v", err)
		}
		if got := cli(t, sock, "show ssl cert "+path); !strings.Contains(got, "Status: Used\n") || !strings.Contains(got, "Serial: "+newSerial+"\n") {
			t.Errorf("show ssl cert after commit:\n%s", got)
		}
		for cmd, want := range map[string]string{
			"abort ssl cert " + path:                              "No ongoing transaction!\n\n",
			"commit ssl cert " + path:                             "No ongoing transaction! !\nCan't commit " + path + "!\n\n",
			"show ssl cert /nonexistent.pem":                      "Can't display the certificate: Not found or the certificate is a bundle!\n\n",
			"set ssl cert /nonexistent.pem <<\n" + string(newPEM): "Can't replace a certificate which is not referenced by the configuration!\nCan't update /nonexistent.pem!\n\n",
			"set ssl cert " + path + " <<\ngarbage\n":             "unable to load certificate from file '" + path + "'.\nCan't load the payload\nCan't update " + path + "!\n\n",
		} {
			if got := cli(t, sock, cmd); got != want {
				t.Errorf("%.40q: %q, want %q", cmd, got, want)
			}
		}
		// A transaction with a certificate and no key cannot be committed;
		// abort drops it.
		certOnly := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: firstCert(t, newPEM).Raw}))
		cli(t, sock, "set ssl cert "+path+" <<\n"+certOnly)
		if got, want := cli(t, sock, "commit ssl cert "+path), "The transaction must contain at least a certificate and a private key!\nCan't commit "+path+"!\n\n"; got != want {
			t.Errorf("commit without key: %q, want %q", got, want)
		}
		if got, want := cli(t, sock, "abort ssl cert "+path), "Transaction aborted for certificate '"+path+"'!\n\n"; got != want {
			t.Errorf("abort: %q, want %q", got, want)
		}
	})
}

func firstCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
