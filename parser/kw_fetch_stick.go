package parser

import (
	"fmt"
	"strings"
)

// The stick-table fetches and converters: sc0_*, sc1_*, sc2_* and
// sc_*(<ctr>) read the entry a sticky counter tracks (optionally in
// another table), src_*
// look the client's address up in a table (the proxy's own by default),
// table_* converters look their input up, table_cnt and table_avl count.

// StickFetchData are the per-entry fetches after the sc<n>_ or src_
// prefix; the value is the output type.
var StickFetchData = map[string]string{
	"conn_cnt": "int", "conn_cur": "int", "conn_rate": "int", "sess_cnt": "int", "sess_rate": "int",
	"bytes_in_rate": "int", "bytes_out_rate": "int", "kbytes_in": "int", "kbytes_out": "int",
	"get_gpc0": "int", "gpc0_rate": "int", "get_gpc1": "int", "gpc1_rate": "int", "get_gpt0": "int",
	"inc_gpc0": "int", "inc_gpc1": "int", "clr_gpc0": "int", "clr_gpc1": "int",
	"http_req_cnt": "int", "http_req_rate": "int", "http_err_cnt": "int", "http_err_rate": "int",
	"http_fail_cnt": "int", "http_fail_rate": "int",
	"tracked": "bool", "trackers": "int", "updt_conn_cnt": "int",
}

// StickConverters are the table_* converters goproxy applies, by the data
// they read.
var StickConverters = map[string]bool{
	"table_conn_cnt": true, "table_conn_cur": true, "table_conn_rate": true, "table_sess_cnt": true,
	"table_sess_rate": true, "table_bytes_in_rate": true, "table_bytes_out_rate": true,
	"table_kbytes_in": true, "table_kbytes_out": true, "table_gpc0": true, "table_gpc0_rate": true,
	"table_gpc1": true, "table_gpc1_rate": true, "table_gpt0": true, "table_server_id": true,
	"table_trackers": true, "table_http_req_cnt": true, "table_http_req_rate": true,
	"table_http_err_cnt": true, "table_http_err_rate": true, "table_http_fail_cnt": true,
	"table_http_fail_rate": true,
}

func init() {
	for name, out := range StickFetchData {
		if name != "updt_conn_cnt" {
			for _, sc := range []string{"sc0_", "sc1_", "sc2_"} {
				fetches[sc+name] = fetchDef{out, out, 0, 1}
			}
			fetches["sc_"+name] = fetchDef{out, out, 1, 2}
		}
		if name != "tracked" {
			fetches["src_"+name] = fetchDef{out, out, 0, 1}
		}
	}
	fetches["table_cnt"] = fetchDef{"int", "int", 0, 1}
	fetches["table_avl"] = fetchDef{"int", "int", 0, 1}
	for name := range StickConverters {
		convDefs[name] = convDef{"str", "int", []argKind{argStr}, 0}
	}
}

// defaultsToTable reports whether a fetch's missing table argument means
// the current proxy's table (src_*, table_cnt, table_avl; sc<n>_* use the
// table they track).
func defaultsToTable(name string) bool {
	if rest, ok := strings.CutPrefix(name, "src_"); ok {
		_, known := StickFetchData[rest]
		return known && rest != "tracked"
	}
	return name == "table_cnt" || name == "table_avl"
}

// isStickFetch reports whether a fetch takes a table argument.
func isStickFetch(name string) bool {
	if defaultsToTable(name) {
		return true
	}
	if len(name) > 4 && name[0] == 's' && name[1] == 'c' && ((name[2] >= '0' && name[2] <= '2') || name[2] == '_') && name[3] == '_' {
		_, ok := StickFetchData[name[4:]]
		return ok
	}
	if rest, ok := strings.CutPrefix(name, "sc_"); ok {
		_, known := StickFetchData[rest]
		return known && rest != "updt_conn_cnt"
	}
	return false
}

// tableArg is the index of a stick fetch's table argument: sc_*(<ctr>)
// has its counter first.
func tableArg(name string) int {
	if strings.HasPrefix(name, "sc_") {
		return 1
	}
	return 0
}

// stickArgs fills in the default table of a fetch and of its table_*
// converters, and notes the tables they name for the check-time
// resolution (fetchargs.go); acl: the fetch of an ACL, else of a rule's
// sample expression.
func (p *parser) stickArgs(fetch string, args []string, conv []Converter, acl bool) []string {
	px := p.cur
	if px == nil {
		return args
	}
	if isStickFetch(fetch) {
		if len(args) == 0 && defaultsToTable(fetch) {
			args = []string{px.Name}
		}
		if i := tableArg(fetch); len(args) > i {
			p.noteArg(px, 't', args[i], fmt.Sprintf("arg %d of %s '%s'", i+1, fetchKeyword(acl), fetch), acl)
		}
	}
	for i := range conv {
		c := &conv[i]
		if !StickConverters[c.Name] {
			continue
		}
		if len(c.Args) == 0 {
			c.Args = []string{px.Name}
		}
		p.noteArg(px, 't', c.Args[0], fmt.Sprintf("arg 1 of conversion keyword '%s' for %s '%s'", c.Name, fetchKeyword(acl), fetch), acl)
	}
	return args
}

// fetchKeyword is how HAProxy names the keyword of a fetch in its
// argument messages.
func fetchKeyword(acl bool) string {
	if acl {
		return "ACL keyword"
	}
	return "sample fetch keyword"
}
