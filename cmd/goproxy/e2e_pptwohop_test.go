package main

import (
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// twoHopFront is the first hop: it reads the client's PROXY header and
// passes the client's address and authority on in its own, checksummed.
const twoHopFront = `
defaults
    mode tcp
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend hop1
    bind %s accept-proxy
    default_backend next
backend next
    server hop2 %s send-proxy-v2 proxy-v2-options crc32c,authority
`

// twoHopBack is the second hop: it routes by what the first one told.
const twoHopBack = `
global
    stats socket %s level admin
defaults
    mode tcp
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend hop2
    bind %s accept-proxy
    tcp-request inspect-delay 1s
    use_backend bauth if { fc_pp_authority -m str acct.example }
    use_backend bsrc if { src 10.9.8.0/24 }
    default_backend bdef
backend bauth
    server a %s
backend bsrc
    balance source
    server s %s
backend bdef
    server d %s
`

// TestE2EProxyTwoHops sends clients' PROXY v2 headers (address, authority
// TLV) through two proxies: the second routes on the client's real address
// and authority. Every
// pairing of goproxy and haproxy (where installed) must route the same.
func TestE2EProxyTwoHops(t *testing.T) {
	a, s, d := startNameServer(t, "bauth", "127.0.0.1:0"), startNameServer(t, "bsrc", "127.0.0.1:0"), startNameServer(t, "bdef", "127.0.0.1:0")
	bins := []string{goproxyBin}
	if h, err := exec.LookPath("haproxy"); err == nil {
		bins = append(bins, h)
	} else {
		t.Log("SKIP: the haproxy pairings: haproxy is not on PATH")
	}
	header := func(src, authority string) []byte {
		var pp *ppTestInfo
		if authority != "" {
			pp = &ppTestInfo{authority}
		}
		return ppV2Header(netip.MustParseAddrPort(src), netip.MustParseAddrPort("10.0.0.1:7890"), pp)
	}
	cases := []struct{ name, src, authority, want string }{
		{"authority", "10.9.8.7:4000", "acct.example", "bauth"},
		{"other authority", "10.9.8.7:4001", "other.example", "bsrc"},
		{"address", "10.9.8.7:4002", "", "bsrc"},
		{"other address", "10.9.9.7:4003", "", "bdef"},
	}
	for _, first := range bins {
		for _, second := range bins {
			name := filepath.Base(first) + "-" + filepath.Base(second)
			t.Run(name, func(t *testing.T) {
				l1, l2 := loopAddr(t), loopAddr(t)
				sock := filepath.Join(t.TempDir(), "s.sock")
				startServing(t, second, fmt.Sprintf(twoHopBack, sock, l2, a.addr(), s.addr(), d.addr()), l2)
				startServing(t, first, fmt.Sprintf(twoHopFront, l1, l2), l1)
				for _, tc := range cases {
					c, err := dialFrom("", l1)
					if err != nil {
						t.Fatal(err)
					}
					_, _ = c.Write(header(tc.src, tc.authority))
					_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
					line := readLine(c)
					if line != tc.want {
						t.Errorf("%s: %q, want %s", tc.name, line, tc.want)
					}
					if tc.name == "address" {
						// The session is still open: the second hop lists
						// it. HAProxy 2.6 shows its socket's peer (the first
						// hop) there, goproxy the client's address.
						sess := cli(t, sock, "show sess")
						if !strings.Contains(sess, "be=bsrc") {
							t.Errorf("show sess:\n%s", sess)
						}
						t.Logf("show sess: %s", strings.SplitN(sess, "\n", 2)[0])
					}
					c.Close()
				}
			})
		}
	}
}

// ppTestInfo is what a test client's PROXY header carries beyond the
// addresses.
type ppTestInfo struct{ authority string }

// ppV2Header builds a PROXY v2 header as a client (or a proxy) sends it,
// with an authority TLV when pp says so.
func ppV2Header(src, dst netip.AddrPort, pp *ppTestInfo) []byte {
	h := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	h = append(h, s4[:]...)
	h = append(h, d4[:]...)
	h = append(h, byte(src.Port()>>8), byte(src.Port()), byte(dst.Port()>>8), byte(dst.Port()))
	if pp != nil {
		h = append(h, 0x02, byte(len(pp.authority)>>8), byte(len(pp.authority)))
		h = append(h, pp.authority...)
	}
	n := len(h) - 16
	h[14], h[15] = byte(n>>8), byte(n)
	return h
}

// readLine reads one line (without its newline), at most 64 bytes;
// "closed" when the connection ends first.
func readLine(c interface{ Read([]byte) (int, error) }) string {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 64 {
		if _, err := c.Read(one); err != nil {
			return "closed"
		}
		if one[0] == '\n' {
			break
		}
		b = append(b, one[0])
	}
	return string(b)
}
