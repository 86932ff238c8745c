package stats

import (
	"regexp"
	"strings"
	"testing"

	"goproxy/parser"
	"goproxy/proxy"
)

// fakeMaps serves maps built from parsed files.
type fakeMaps []*proxy.MapRef

func (f fakeMaps) Maps() []*proxy.MapRef { return f }
func (f fakeMaps) Map(name string) *proxy.MapRef {
	for _, m := range f {
		if name == m.File || name == "#"+itoa(m.ID) {
			return m
		}
	}
	return nil
}

// TestMapCommands answers the map commands with HAProxy 2.6's texts
// (captured from haproxy on the same map: two pattern sets, as a map_beg
// and a map_str on one file).
func TestMapCommands(t *testing.T) {
	m := proxy.NewMapRef(&parser.MapFile{ID: 4, File: "/etc/acct.map", Map: true,
		Entries: parser.ParseMapText("acct1 be1\nacct2 be2\n"),
		Sets:    []parser.MapSet{{Match: "beg", Out: "str"}, {Match: "str", Out: "str"}},
		UsedBy:  []string{"map at file 'h.cfg' line 13", "map at file 'h.cfg' line 15"}})
	ip := proxy.NewMapRef(&parser.MapFile{ID: 2, File: "/etc/ip.map", Map: true,
		Entries: parser.ParseMapText("10.0.0.0/8 ten\n"), Sets: []parser.MapSet{{Match: "ip", Out: "str"}},
		UsedBy: []string{"map at file 'h.cfg' line 12"}})
	srv := newTestServer(t, newFakeSource())
	srv.Maps = fakeMaps{ip, m}
	ref := regexp.MustCompile(`0x[0-9a-f]+`)
	steps := []struct{ cmd, want string }{
		{"show map", "# id (file) description\n2 (/etc/ip.map) pattern loaded from file '/etc/ip.map' used by map at file 'h.cfg' line 12. curr_ver=0 next_ver=0 entry_cnt=1\n4 (/etc/acct.map) pattern loaded from file '/etc/acct.map' used by map at file 'h.cfg' line 13, by map at file 'h.cfg' line 15. curr_ver=0 next_ver=0 entry_cnt=4\n\n"},
		{"show map #4", "REF acct1 be1\nREF acct2 be2\n\n"},
		{"add map #4 k2 v2", "\n"},
		{"set map #4 acct1 be9", "\n"},
		{"set map #4 nokey be9", "entry not found.\n\n"},
		{"set map #4 #0x1 v", "key or pattern not found.\n\n"},
		{"set map #4 acct1", "'set map' expects three parameters: map identifier, key and value.\n\n"},
		{"del map #4 acct2", "\n"},
		{"del map #4 acct2", "Key not found.\n\n"},
		{"del map #4", "This command expects two parameters: map identifier and key.\n\n"},
		{"show map /etc/acct.map", "REF acct1 be9\nREF k2 v2\n\n"},
		{"show map @1 #4", "\n"},
		{"add map #4 k", "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n\n"},
		{"add map nosuch k v", "Unknown map identifier. Please use #<id> or <file>.\n\n"},
		{"add map #2 nota x", "'nota' is not a valid IPv4 or IPv6 address.\n\n"},
		{"clear map", "Missing map identifier.\n\n"},
		{"clear map #4", "\n"},
		{"show map #4", "\n"},
		{"show map", "# id (file) description\n2 (/etc/ip.map) pattern loaded from file '/etc/ip.map' used by map at file 'h.cfg' line 12. curr_ver=0 next_ver=0 entry_cnt=0\n4 (/etc/acct.map) pattern loaded from file '/etc/acct.map' used by map at file 'h.cfg' line 13, by map at file 'h.cfg' line 15. curr_ver=0 next_ver=0 entry_cnt=3\n\n"},
	}
	for _, st := range steps {
		got := ref.ReplaceAllString(run(srv, LevelUser, st.cmd), "REF")
		if got != st.want {
			t.Errorf("%s:\n got %q\nwant %q", st.cmd, got, st.want)
		}
	}
	if !strings.Contains(run(srv, LevelUser, "show map #9"), "Unknown map identifier") {
		t.Error("show map of no map")
	}
}
