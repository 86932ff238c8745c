package proxy

import (
	"io"
	"net"
	"testing"
	"time"

	"goproxy/parser"
)

func TestRulesAndACLs(t *testing.T) {
	one := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("one")) })
	two := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("two")) })
	fe := &parser.Proxy{
		Pos: parser.Pos{File: "t.cfg", Line: 1}, Kind: "frontend", Name: "fe", Cap: parser.CapFrontend, ID: 2,
		Binds:          []*parser.Bind{{Pos: parser.Pos{File: "t.cfg", Line: 2}, Addr: tcpAddr(0)}},
		DefaultBackend: "b1",
		ACLs: []*parser.ACL{
			{Name: "from2", Criterion: "src", Values: []string{"127.0.0.2"}},
			{Name: "from3", Criterion: "src", Values: []string{"127.0.0.3/32"}},
			{Name: "lowport", Criterion: "dst_port", Values: []string{"1:1023"}},
		},
		TCPReqConn: []*parser.TCPRule{{Action: "reject", Cond: &parser.Condition{Terms: [][]parser.CondTerm{{{ACL: "from3"}}}}}},
		UseBackends: []*parser.UseBackend{{Backend: "b2", Cond: &parser.Condition{
			Terms: [][]parser.CondTerm{{{ACL: "from2"}, {ACL: "lowport", Negate: true}}}}}},
		Timeouts: parser.Timeouts{Client: 5 * time.Second},
	}
	b1, b2 := listenProxy(one.port()), listenProxy(two.port())
	for i, b := range []*parser.Proxy{b1, b2} {
		b.Kind, b.Cap, b.Binds, b.ID = "backend", parser.CapBackend, nil, 3+i
		b.Name = "b" + string(rune('1'+i))
	}
	g := startGraph(t, config(fe, b1, b2))
	addr := feAddr(t, g, "fe")
	for _, tc := range []struct{ src, want string }{
		{"127.0.0.1", "one"}, {"127.0.0.2", "two"}, {"127.0.0.3", ""},
	} {
		d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.src)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			if tc.want == "" {
				continue // rejected with a reset before the dial returned
			}
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != tc.want {
			t.Errorf("from %s: got %q, want %q", tc.src, got, tc.want)
		}
	}
	if st := g.Frontend("fe").Stats(); st.Dcon != 1 || st.ConnTot != 3 || st.Stot != 2 {
		t.Errorf("dcon=%d conn_tot=%d stot=%d, want 1/3/2", st.Dcon, st.ConnTot, st.Stot)
	}
}

func TestTCPRequestContent(t *testing.T) {
	srv := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("ok")) })
	fe := &parser.Proxy{
		Pos: parser.Pos{File: "t.cfg", Line: 1}, Kind: "frontend", Name: "fe", Cap: parser.CapFrontend, ID: 2,
		Binds:          []*parser.Bind{{Pos: parser.Pos{File: "t.cfg", Line: 2}, Addr: tcpAddr(0)}},
		DefaultBackend: "be",
		ACLs:           []*parser.ACL{{Name: "from2", Criterion: "src", Values: []string{"127.0.0.2"}}},
		TCPReqContent: []*parser.TCPRule{{Action: "reject", Cond: &parser.Condition{
			Terms: [][]parser.CondTerm{{{ACL: "from2"}}}}}},
		Timeouts: parser.Timeouts{Client: 5 * time.Second},
	}
	be := listenProxy(srv.port())
	be.Kind, be.Cap, be.Binds, be.Name, be.ID = "backend", parser.CapBackend, nil, "be", 3
	be.ACLs = []*parser.ACL{{Name: "from3", Criterion: "src", Values: []string{"127.0.0.3"}}}
	be.TCPReqContent = []*parser.TCPRule{{Action: "reject", Cond: &parser.Condition{
		Terms: [][]parser.CondTerm{{{ACL: "from3"}}}}}}
	g := startGraph(t, config(fe, be))
	addr := feAddr(t, g, "fe")
	for _, tc := range []struct{ src, want string }{{"127.0.0.1", "ok"}, {"127.0.0.2", ""}, {"127.0.0.3", ""}} {
		d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.src)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != tc.want {
			t.Errorf("from %s: got %q, want %q", tc.src, got, tc.want)
		}
	}
	// As haproxy 2.6: both denials count on the frontend.
	if f, b := g.Frontend("fe").Stats(), g.Backend("be").Stats(); f.Dreq != 2 || b.Dreq != 0 || f.Stot != 3 || b.Stot != 2 {
		t.Errorf("frontend dreq=%d stot=%d, backend dreq=%d stot=%d; want 2/3 and 0/2", f.Dreq, f.Stot, b.Dreq, b.Stot)
	}
}
