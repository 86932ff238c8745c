package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"sort"
	"sync/atomic"
	"time"

	"goproxy/internal/ocspresp"
	"goproxy/parser"
)

// OCSP stapling as HAProxy 2.6 does it: a certificate whose file has a
// ".ocsp" beside it is filed under its OCSP certificate ID; the response
// filed there is stapled to the handshakes that pick the certificate until
// five minutes before its next update, and "set ssl ocsp-response"
// replaces it at run time by certificate ID.

// ocspSlot is the response of one certificate ID, shared by every file
// holding that certificate (HAProxy's certificate_ocsp).
type ocspSlot struct {
	id   []byte
	resp atomic.Pointer[ocspResp]
}

// ocspResp is one response and when it stops being stapled.
type ocspResp struct {
	der    []byte
	expire time.Time
}

// fileOCSP files the ".ocsp" response of the certificate of e, if it has
// one. Called with cs.mu held while loading e.
func (cs *CertStore) fileOCSP(e *certEntry, c *tls.Certificate) {
	o, _, _ := parser.LoadOCSP(e.path, c, cs.extra, time.Now()) // the parser reported its messages
	if o == nil {
		return
	}
	if cs.ocsp == nil {
		cs.ocsp = map[string]*ocspSlot{}
	}
	slot := cs.ocsp[string(o.CertID)]
	if slot == nil {
		slot = &ocspSlot{id: o.CertID}
		cs.ocsp[string(o.CertID)] = slot
	}
	if o.Response != nil {
		slot.resp.Store(&ocspResp{der: o.Response, expire: o.Expire})
	}
	e.ocsp.Store(slot)
}

// stapled is the certificate of e for a handshake at now: with its OCSP
// response while one is filed and not expired.
func (e *certEntry) stapled(now time.Time) *tls.Certificate {
	c := e.cert.Load()
	slot := e.ocsp.Load()
	if slot == nil {
		return c
	}
	r := slot.resp.Load()
	if r == nil || now.After(r.expire) {
		return c
	}
	cc := *c
	cc.OCSPStaple = r.der
	return &cc
}

// OCSPIDs returns the certificate IDs responses are filed under, in
// HAProxy's order (the bytes of the keys).
func (cs *CertStore) OCSPIDs() [][]byte {
	if cs == nil {
		return nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var ids [][]byte
	for _, s := range cs.ocsp {
		ids = append(ids, s.id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i], ids[j]) < 0 })
	return ids
}

// OCSPKey returns the certificate ID of path's certificate when it has an
// OCSP set-up.
func (cs *CertStore) OCSPKey(path string) []byte {
	if cs == nil {
		return nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if e := cs.byPath[path]; e != nil {
		if s := e.ocsp.Load(); s != nil {
			return s.id
		}
	}
	return nil
}

// SetOCSPResponse files a DER response under the certificate ID it names,
// as "set ssl ocsp-response": the error is HAProxy's text.
func (cs *CertStore) SetOCSPResponse(der []byte) error {
	r, err := ocspresp.Parse(der, time.Now())
	if err != nil {
		return err
	}
	if cs == nil {
		return errNoOCSPCert
	}
	cs.mu.Lock()
	slot := cs.ocsp[string(r.CertID)]
	cs.mu.Unlock()
	if slot == nil {
		return errNoOCSPCert
	}
	slot.resp.Store(&ocspResp{der: bytes.Clone(der), expire: r.Expire()})
	return nil
}

var errNoOCSPCert = errors.New("OCSP single response: Certificate ID does not match any certificate or issuer")
