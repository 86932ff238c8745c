package stats

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"goproxy/internal/stktable"
)

// Tables is what the table commands (show/clear/set table) reach: the
// stick tables of the running process. *proxy.Graph satisfies it.
type Tables interface {
	Tables() []*stktable.Table
	Table(name string) *stktable.Table
}

// Table command actions.
const (
	tblShow = iota
	tblClear
	tblSet
)

func init() {
	add := func(kw string, action int) {
		commandTable = append(commandTable, command{words: strings.Fields(kw), level: LevelUser,
			run: func(s *session, args []string) string { return cmdTable(s, args, action) }})
	}
	add("show table", tblShow)
	add("clear table", tblClear)
	add("set table", tblSet)
}

// tableFilter is one "data.<type> <op> <value>" of show or clear.
type tableFilter struct {
	d  stktable.DataType
	op string
	v  int64
}

// cmdTable parses a table command as HAProxy's cli_parse_table_req and
// runs it.
func cmdTable(s *session, args []string, action int) string {
	var list []*stktable.Table
	if s.srv.Tables != nil {
		list = s.srv.Tables.Tables()
	}
	name := argAt(args, 2)
	if name == "" {
		if action != tblShow {
			return tableUsage(action)
		}
		var b strings.Builder
		for i := len(list) - 1; i >= 0; i-- { // HAProxy lists the last declared first
			writeTableHead(&b, list[i])
		}
		return b.String()
	}
	var t *stktable.Table
	for _, o := range list {
		if o.Name == name {
			t = o
		}
	}
	if t == nil {
		return "No such table\n"
	}
	switch a3 := argAt(args, 3); {
	case a3 == "key":
		return tableKeyCmd(s, t, args, action)
	case strings.HasPrefix(a3, "data."):
		if action != tblShow && action != tblClear {
			return "content-based lookup is only supported with the \"show\" and \"clear\" actions\n"
		}
		filters, msg := parseTableFilters(t, args)
		if msg != "" {
			return msg
		}
		return tableDump(s, t, action, filters)
	case a3 != "":
		return tableUsage(action)
	}
	if action == tblSet {
		return ""
	}
	return tableDump(s, t, action, nil)
}

func tableUsage(action int) string {
	switch action {
	case tblShow:
		return "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n"
	case tblClear:
		return "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n"
	}
	return "Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n"
}

// writeTableHead writes a table's header line, expired entries first
// removed (HAProxy's expiry task has removed them by then).
func writeTableHead(b *strings.Builder, t *stktable.Table) {
	t.Sweep()
	fmt.Fprintf(b, "# table: %s, type: %s, size:%d, used:%d\n", t.Name, t.Type, t.Size, t.Used())
}

// parseTableFilters reads up to 4 filters from args[3:], with HAProxy's
// messages.
func parseTableFilters(t *stktable.Table, args []string) ([]tableFilter, string) {
	var out []tableFilter
	i := 0
	for ; i < 4; i++ {
		w := argAt(args, 3+3*i)
		if i > 0 && w == "" {
			break
		}
		d, ok := stktable.ParseDataType(strings.TrimPrefix(w, "data."))
		if !ok || !strings.HasPrefix(w, "data.") {
			return nil, fmt.Sprintf("Filter entry #%d: Unknown data type\n", i+1)
		}
		if !t.Stores(d) {
			return nil, fmt.Sprintf("Filter entry #%d: Data type not stored in this table\n", i+1)
		}
		op := argAt(args, 4+3*i)
		switch op {
		case "eq", "ne", "le", "ge", "lt", "gt":
		default:
			return nil, fmt.Sprintf("Filter entry #%d: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"\n", i+1)
		}
		v, err := strconv.ParseInt(argAt(args, 5+3*i), 10, 64)
		if err != nil {
			return nil, fmt.Sprintf("Filter entry #%d: Require a valid integer value to compare against\n", i+1)
		}
		out = append(out, tableFilter{d, op, v})
	}
	if w := argAt(args, 3+3*i); w != "" {
		return nil, fmt.Sprintf("Detected extra data in filter, %dth word of input, after '%s'\n", 3+3*i+1, argAt(args, 2+3*i))
	}
	return out, ""
}

// matches applies the filters to an entry's data.
func matches(snap *stktable.Snapshot, t *stktable.Table, filters []tableFilter) bool {
	for _, f := range filters {
		data := dataValue(snap, f.d)
		switch {
		case data < f.v && (f.op == "eq" || f.op == "gt" || f.op == "ge"),
			data == f.v && (f.op == "ne" || f.op == "gt" || f.op == "lt"),
			data > f.v && (f.op == "eq" || f.op == "lt" || f.op == "le"):
			return false
		}
	}
	return true
}

// dataValue is a data type's value as HAProxy reads it for printing and
// filtering: 32 bits but for server_id (signed) and the byte counts.
func dataValue(snap *stktable.Snapshot, d stktable.DataType) int64 {
	v := snap.Vals[d]
	switch d {
	case stktable.ServerID:
		return int64(int32(uint32(v)))
	case stktable.BytesInCnt, stktable.BytesOutCnt:
		return int64(v)
	}
	return int64(uint32(v))
}

// tableEntries are a table's entries in key order, as HAProxy's tree
// walks them.
func tableEntries(t *stktable.Table) []*stktable.Entry {
	t.Sweep()
	var es []*stktable.Entry
	t.Walk(func(e *stktable.Entry) bool { es = append(es, e); return true })
	sort.Slice(es, func(i, j int) bool { return es[i].Key() < es[j].Key() })
	return es
}

// tableDump shows or clears a table's entries (every one, or those the
// filters select). The entries are listed only to operators and admins.
func tableDump(s *session, t *stktable.Table, action int, filters []tableFilter) string {
	var b strings.Builder
	if action == tblShow {
		writeTableHead(&b, t)
		if s.sockLevel < LevelOperator {
			b.WriteString("# contents not dumped due to insufficient privileges\n")
			return b.String()
		}
	} else if s.sockLevel < LevelOperator {
		return ""
	}
	for _, e := range tableEntries(t) {
		snap := t.Read(e)
		if !matches(&snap, t, filters) {
			continue
		}
		if action == tblShow {
			writeEntry(&b, t, e, &snap)
		} else {
			t.Delete(e.Key())
		}
	}
	return b.String()
}

// writeEntry writes one entry as table_dump_entry_to_buffer.
func writeEntry(b *strings.Builder, t *stktable.Table, e *stktable.Entry, snap *stktable.Snapshot) {
	fmt.Fprintf(b, "%p: key=%s use=%d exp=%d", e, t.FormatKey(e.Key()), e.Refs(), t.Remaining(e))
	for d := stktable.DataType(0); d < stktable.NumData; d++ {
		if !t.Stores(d) {
			continue
		}
		switch {
		case d == stktable.ServerKey:
			k := snap.Skey
			if k == "" {
				k = "-"
			}
			fmt.Fprintf(b, " %s=%s", d, k)
		case d.IsRate():
			fmt.Fprintf(b, " %s(%d)=%d", d, t.Period(d), dataValue(snap, d))
		default:
			fmt.Fprintf(b, " %s=%d", d, dataValue(snap, d))
		}
	}
	b.WriteByte('\n')
}

// tableKeyCmd runs show, clear or set on one key.
func tableKeyCmd(s *session, t *stktable.Table, args []string, action int) string {
	k := argAt(args, 4)
	if k == "" {
		return "Key value expected\n"
	}
	var key string
	switch t.Type {
	case stktable.IP:
		key, _ = t.KeyAddr(netip.IPv4Unspecified()) // HAProxy reads a bad address as 0.0.0.0
		if kk, err := t.ParseKey(k); err == nil {
			key = kk
		}
	case stktable.IPv6, stktable.Integer:
		kk, err := t.ParseKey(k)
		if err != nil {
			return "Invalid key\n"
		}
		key = kk
	case stktable.String:
		key, _ = t.ParseKey(k)
	default:
		return [...]string{
			"Showing keys from tables of type other than ip, ipv6, string and integer is not supported\n",
			"Removing keys from tables of type other than ip, ipv6, string and integer is not supported\n",
			"Inserting keys into tables of type other than ip, ipv6, string and integer is not supported\n",
		}[action]
	}
	if s.level < LevelOperator {
		return ""
	}
	switch action {
	case tblShow:
		e := t.Lookup(key)
		if e == nil {
			return ""
		}
		var b strings.Builder
		writeTableHead(&b, t)
		snap := t.Read(e)
		writeEntry(&b, t, e, &snap)
		return b.String()
	case tblClear:
		if t.Lookup(key) != nil && !t.Delete(key) {
			return "Entry currently in use, cannot remove\n"
		}
		return ""
	}
	e := t.Track(key)
	if e == nil {
		return "Unable to allocate a new entry\n"
	}
	defer t.Release(e)
	for i := 5; argAt(args, i) != ""; i += 2 {
		w := args[i]
		if !strings.HasPrefix(w, "data.") {
			return "\"data.<type>\" followed by a value expected\n"
		}
		d, ok := stktable.ParseDataType(w[5:])
		if !ok {
			return "Unknown data type\n"
		}
		if !t.Stores(d) {
			return "Data type not stored in this table\n"
		}
		v, err := strconv.ParseInt(argAt(args, i+1), 10, 64)
		if err != nil {
			return "Require a valid integer value to store\n"
		}
		if d == stktable.ServerKey {
			continue // a dictionary entry: HAProxy leaves it alone
		}
		t.Set(e, d, uint64(v))
	}
	return ""
}
