package proxy

import (
	"bytes"
	"crypto/tls"
	"testing"
	"time"
)

// A filed response is stapled until its expiry, then no longer; an entry
// without an OCSP set-up, or with a slot and no response, staples nothing.
func TestStapledUntilExpiry(t *testing.T) {
	now := time.Now()
	e := &certEntry{path: "site.pem"}
	e.cert.Store(&tls.Certificate{Certificate: [][]byte{{1}}})
	if c := e.stapled(now); c.OCSPStaple != nil {
		t.Fatal("no OCSP set-up: stapled something")
	}
	slot := &ocspSlot{id: []byte{0x30}}
	e.ocsp.Store(slot)
	if c := e.stapled(now); c.OCSPStaple != nil {
		t.Fatal("a slot without a response: stapled something")
	}
	slot.resp.Store(&ocspResp{der: []byte("resp"), expire: now.Add(time.Minute)})
	if c := e.stapled(now); !bytes.Equal(c.OCSPStaple, []byte("resp")) {
		t.Fatalf("valid response: stapled %q", c.OCSPStaple)
	}
	if e.cert.Load().OCSPStaple != nil {
		t.Fatal("stapling changed the shared certificate")
	}
	if c := e.stapled(now.Add(2 * time.Minute)); c.OCSPStaple != nil {
		t.Fatal("expired response: still stapled")
	}
}
