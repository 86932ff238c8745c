package parser

import (
	"fmt"
	"strings"
)

// The stick-table fetches and converters: sc0_*, sc1_*, sc2_* read the
// entry a sticky counter tracks (optionally in another table), src_*
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
	if len(name) > 4 && name[0] == 's' && name[1] == 'c' && name[2] >= '0' && name[2] <= '2' && name[3] == '_' {
		_, ok := StickFetchData[name[4:]]
		return ok
	}
	return false
}

// tableRef is a table named by a fetch or converter argument, checked
// once every proxy is parsed.
type tableRef struct {
	Pos
	proxy, name string
	msg         string // where the name appears, as HAProxy words it
}

// stickArgs fills in the default table of a fetch and of its table_*
// converters, and records the tables they name for the check.
func (p *parser) stickArgs(fetch string, args []string, conv []Converter, ctx string) []string {
	px := p.cur
	if px == nil {
		return args
	}
	if isStickFetch(fetch) {
		if len(args) == 0 && defaultsToTable(fetch) {
			args = []string{px.Name}
		}
		if len(args) > 0 {
			p.tableRefs = append(p.tableRefs, tableRef{Pos: p.pos(), proxy: px.Name, name: args[0],
				msg: fmt.Sprintf("arg 1 of %s keyword '%s'", ctx, fetch)})
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
		p.tableRefs = append(p.tableRefs, tableRef{Pos: p.pos(), proxy: px.Name, name: c.Args[0],
			msg: fmt.Sprintf("arg 1 of conversion keyword '%s' for %s keyword '%s'", c.Name, ctx, fetch)})
	}
	return args
}

// checkTableRefs reports the tables fetches and converters of px name
// but no proxy declares.
func (p *parser) checkTableRefs(px *Proxy) {
	for _, r := range p.tableRefs {
		if r.proxy != px.Name {
			continue
		}
		if p.cfg.TableByName(r.name) == nil {
			p.report(&Error{Pos: r.Pos, Phase: PhaseCheck, Style: StyleLine,
				Msg: fmt.Sprintf("unable to find table '%s' referenced in %s in proxy '%s'.", r.name, r.msg, px.Name)})
		}
	}
}
