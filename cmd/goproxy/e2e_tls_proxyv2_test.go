package main

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// TestE2ETLSProxyV2SSL checks the PROXY v2 header of send-proxy-v2-ssl
// and send-proxy-v2-ssl-cn behind an ssl bind, byte for byte after the
// addresses, on goproxy and haproxy.
func TestE2ETLSProxyV2SSL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	_, client := ca.issue(t, dir, "client.pem", certOpts{cn: "device-42", client: true})
	tlv := func(typ byte, v []byte) []byte {
		return append(binary.BigEndian.AppendUint16([]byte{typ}, uint16(len(v))), v...)
	}
	version := tlv(0x21, []byte("TLSv1.3"))
	onOracles(t, func(t *testing.T, bin string) {
		for _, tc := range []struct {
			name, opt string
			cert      bool
			want      []byte
		}{
			{"ssl-cn with a client certificate", "send-proxy-v2-ssl-cn", true,
				tlv(0x20, append(append([]byte{0x07, 0, 0, 0, 0}, version...), tlv(0x22, []byte("device-42"))...))},
			{"ssl with a client certificate", "send-proxy-v2-ssl", true, tlv(0x20, append([]byte{0x07, 0, 0, 0, 0}, version...))},
			{"ssl-cn without one", "send-proxy-v2-ssl-cn", false, tlv(0x20, append([]byte{0x01, 0, 0, 0, 0}, version...))},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				got := make(chan []byte, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						got <- nil
						return
					}
					defer c.Close()
					_ = c.SetDeadline(time.Now().Add(5 * time.Second))
					head := make([]byte, 16)
					if _, err := io.ReadFull(c, head); err != nil {
						got <- nil
						return
					}
					rest := make([]byte, binary.BigEndian.Uint16(head[14:]))
					if _, err := io.ReadFull(c, rest); err != nil {
						got <- nil
						return
					}
					got <- append(head, rest...)
				}()
				c := e2eCfg{servers: []string{"server s1 " + ln.Addr().String() + " " + tc.opt}}
				addr, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+ca.file+" verify optional")
				conf := &tls.Config{ServerName: "srv.test", RootCAs: ca.pool}
				if tc.cert {
					conf.Certificates = []tls.Certificate{client}
				}
				tcn, _, err := tlsDial(addr, conf)
				if err != nil {
					t.Fatal(err)
				}
				defer tcn.Close()
				if _, err := tcn.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
				var h []byte
				select {
				case h = <-got:
				case <-time.After(5 * time.Second):
				}
				if len(h) < 28 || h[12] != 0x21 || h[13] != 0x11 {
					t.Fatalf("header %x: not a PROXY v2 TCP4 header", h)
				}
				if tlvs := h[28:]; !bytes.Equal(tlvs, tc.want) {
					t.Errorf("TLVs %x, want %x", tlvs, tc.want)
				}
			})
		}
	})
}
