package proxy

import (
	"net/netip"
	"testing"

	"goproxy/internal/stktable"
	"goproxy/parser"
)

// TestStickFetches evaluates the stick fetches and converters against a
// table filled by hand: src_* looks the client up in the proxy's own
// table by default (0 without an entry), sc0_* gives no sample while the
// counter tracks nothing, table_* converters read another proxy's table.
func TestStickFetches(t *testing.T) {
	text := `defaults
 mode tcp
frontend fe
 bind 127.0.0.1:1
 stick-table type ip size 10 store conn_cur,gpc0
 acl cur2     src_conn_cur ge 2
 acl cur0     src_conn_cur eq 0
 acl tracked  sc0_tracked
 acl sc0gpc   sc0_get_gpc0 ge 0
 acl srv3     src,table_server_id(be) eq 3
 acl nosrv    src,table_server_id(be) eq 0
 acl cnt1     table_cnt eq 1
 acl avl9     table_avl(fe) eq 9
backend be
 stick-table type ip size 10
 stick on src
 server s1 127.0.0.1:2
`
	cfg, err := parser.Parse("t.cfg", text, parser.Options{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	g := &Graph{}
	env := &compileEnv{tables: g.buildTables(cfg)}
	g.mapBy = env
	named, err := compileACLs(cfg.Proxies[0].ACLs, env)
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddrPort("10.0.0.1:5000")
	ci := &connInfo{src: src, final: true}
	check := func(when string, pass ...string) {
		t.Helper()
		want := map[string]bool{}
		for _, p := range pass {
			want[p] = true
		}
		for name, list := range named {
			if got := list[0].match(ci); got != want[name] {
				t.Errorf("%s: acl %s = %v, want %v", when, name, got, want[name])
			}
		}
	}
	check("empty tables", "cur0", "nosrv")
	fe, be := g.Table("fe"), g.Table("be")
	key, _ := fe.KeyAddr(src.Addr())
	e := fe.Track(key)
	fe.Set(e, stktable.ConnCur, 2)
	bk, _ := be.KeyAddr(src.Addr())
	be.SetServer(be.Track(bk), 3, "s3")
	check("entries", "cur2", "srv3", "cnt1", "avl9")
	ci.s = &session{stk: &stickState{}}
	ci.s.stk.ctr[0] = stickCtr{fe, e}
	check("tracked", "cur2", "srv3", "cnt1", "avl9", "tracked", "sc0gpc")
	inc, err := compileSampleExpr("src_inc_gpc0", []string{"fe"}, nil, env)
	if err != nil {
		t.Fatal(err)
	}
	for want := int64(1); want <= 2; want++ {
		if smp, ok := inc.eval(ci); !ok || smp.i != want {
			t.Errorf("src_inc_gpc0 = %v %v, want %d", smp.i, ok, want)
		}
	}
}
