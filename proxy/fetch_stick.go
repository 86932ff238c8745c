package proxy

import (
	"fmt"
	"strings"

	"goproxy/internal/stktable"
	"goproxy/parser"
)

// The stick-table fetches (sc0_*, sc1_*, sc2_*, sc_*, src_*, table_cnt,
// table_avl) and the table_* converters, as HAProxy's stick_table.c: a
// sticky counter that tracks nothing gives no sample, a src_* lookup
// that finds no entry gives 0, and data the table does not store gives
// no sample.

// stickData is what a stick fetch reads of an entry.
type stickData struct {
	d    stktable.DataType
	op   uint8 // opGet, opInc, opClr, opKB, opTracked, opTrackers
	rate stktable.DataType
}

const (
	opGet uint8 = iota
	opInc
	opClr
	opKB
	opTracked
	opTrackers
	opZero // the HTTP counters: stored, never counted in TCP mode
)

// stickDataOf maps a fetch's data name (after sc<n>_ or src_, or
// table_ for the converters) to what it reads.
func stickDataOf(name string) (stickData, bool) {
	switch name {
	case "get_gpc0", "gpc0":
		return stickData{d: stktable.GPC0}, true
	case "get_gpc1", "gpc1":
		return stickData{d: stktable.GPC1}, true
	case "get_gpt0", "gpt0":
		return stickData{d: stktable.GPT0}, true
	case "inc_gpc0":
		return stickData{d: stktable.GPC0, op: opInc, rate: stktable.GPC0Rate}, true
	case "inc_gpc1":
		return stickData{d: stktable.GPC1, op: opInc, rate: stktable.GPC1Rate}, true
	case "clr_gpc0":
		return stickData{d: stktable.GPC0, op: opClr}, true
	case "clr_gpc1":
		return stickData{d: stktable.GPC1, op: opClr}, true
	case "kbytes_in":
		return stickData{d: stktable.BytesInCnt, op: opKB}, true
	case "kbytes_out":
		return stickData{d: stktable.BytesOutCnt, op: opKB}, true
	case "tracked":
		return stickData{op: opTracked}, true
	case "trackers":
		return stickData{op: opTrackers}, true
	case "updt_conn_cnt":
		return stickData{d: stktable.ConnCnt, op: opInc}, true
	}
	d, ok := stktable.ParseDataType(name)
	if !ok {
		return stickData{}, false
	}
	if strings.HasPrefix(name, "http_") {
		return stickData{d: d, op: opZero}, true
	}
	return stickData{d: d}, true
}

func init() {
	for name := range parser.StickFetchData {
		sd, ok := stickDataOf(name)
		if !ok {
			panic("stick fetch without data: " + name)
		}
		match := "int"
		if sd.op == opTracked {
			match = "bool"
		}
		if name != "updt_conn_cnt" {
			for n := 0; n < maxStickCtr; n++ {
				fetchTable[fmt.Sprintf("sc%d_%s", n, name)] = fetchDef{scFetch(n, sd), match, false}
			}
			fetchTable["sc_"+name] = fetchDef{scFetch(-1, sd), match, false}
		}
		if name != "tracked" {
			fetchTable["src_"+name] = fetchDef{srcFetch(sd), match, false}
		}
	}
	fetchTable["table_cnt"] = fetchDef{fetchTableCnt, "int", false}
	fetchTable["table_avl"] = fetchDef{fetchTableAvl, "int", false}
}

// resolveTable finds the table argument of a stick fetch.
func (fa *fetchArgs) resolveTable(name string, env *compileEnv) error {
	if !isStickFetchName(name) || fa.proxy == "" {
		return nil
	}
	if fa.table = env.table(fa.proxy); fa.table == nil {
		return fmt.Errorf("fetch '%s': no stick-table '%s'", name, fa.proxy)
	}
	return nil
}

func isStickFetchName(name string) bool {
	if rest, ok := strings.CutPrefix(name, "src_"); ok {
		_, known := parser.StickFetchData[rest]
		return known
	}
	return name == "table_cnt" || name == "table_avl" || strings.HasPrefix(name, "sc_") ||
		(len(name) > 4 && name[:2] == "sc" && name[2] >= '0' && name[2] <= '2' && name[3] == '_')
}

// scFetch reads the entry sticky counter n tracks (or the entry of the
// same key in the table given as argument); n -1 is sc_*(<ctr>), whose
// counter is its first argument.
func scFetch(n int, sd stickData) fetchFn {
	return func(fa *fetchArgs, c *connInfo) (sample, bool) {
		n := n
		if n < 0 {
			if n = fa.ctr; n < 0 {
				if sd.op == opTracked {
					return boolSample(false)
				}
				return sample{}, false
			}
		}
		var ctr stickCtr
		if c.s != nil && c.s.stk != nil {
			ctr = c.s.stk.ctr[n]
		}
		if sd.op == opTracked {
			return boolSample(ctr.e != nil)
		}
		if ctr.e == nil {
			return sample{}, false
		}
		t, e := ctr.t, ctr.e
		if fa.table != nil && fa.table != t {
			t = fa.table
			if sd.op == opInc {
				e = t.Track(ctr.e.Key())
				if e == nil {
					return sample{}, false
				}
				defer t.Release(e)
			} else if e = t.Lookup(ctr.e.Key()); e == nil {
				return intSample(0)
			}
		}
		return readStick(t, e, sd)
	}
}

// srcFetch looks the client's address up in the table argument; the
// inc_ and updt_ fetches create the entry.
func srcFetch(sd stickData) fetchFn {
	return func(fa *fetchArgs, c *connInfo) (sample, bool) {
		t := fa.table
		if t == nil {
			return sample{}, false
		}
		key, ok := t.KeyAddr(c.src.Addr())
		if t.Type == stktable.String || t.Type == stktable.Binary {
			smp := sample{typ: smpIP, ip: c.src.Addr()}
			key, ok = tableKey(t, &smp)
		}
		if !ok {
			return sample{}, false
		}
		if sd.op == opInc {
			e := t.Track(key)
			if e == nil {
				return sample{}, false
			}
			defer t.Release(e)
			return readStick(t, e, sd)
		}
		e := t.Lookup(key)
		if e == nil {
			if sd.op != opTrackers && !t.Stores(sd.d) && sd.op != opZero {
				return sample{}, false
			}
			return intSample(0)
		}
		return readStick(t, e, sd)
	}
}

// readStick reads or updates an entry's data.
func readStick(t *stktable.Table, e *stktable.Entry, sd stickData) (sample, bool) {
	switch sd.op {
	case opTrackers:
		return intSample(int64(e.Refs()))
	case opZero:
		if !t.Stores(sd.d) {
			return sample{}, false
		}
		return intSample(0)
	case opInc:
		if !t.Stores(sd.d) && (sd.rate == 0 || !t.Stores(sd.rate)) {
			return sample{}, false
		}
		if sd.rate != 0 {
			t.Counts(e, sd.d, sd.rate, 1)
		} else {
			t.Add(e, sd.d, 1)
		}
		v, _ := t.Get(e, sd.d)
		return intSample(int64(uint32(v)))
	case opClr:
		v, ok := t.Swap(e, sd.d, 0)
		if !ok {
			return sample{}, false
		}
		return intSample(int64(uint32(v)))
	}
	v, ok := t.Get(e, sd.d)
	if !ok {
		return sample{}, false
	}
	if sd.op == opKB {
		return intSample(int64(v >> 10))
	}
	if sd.d == stktable.ServerID {
		return intSample(int64(int32(uint32(v))))
	}
	if sd.d == stktable.BytesInCnt || sd.d == stktable.BytesOutCnt {
		return intSample(int64(v))
	}
	return intSample(int64(uint32(v)))
}

func fetchTableCnt(fa *fetchArgs, _ *connInfo) (sample, bool) {
	if fa.table == nil {
		return sample{}, false
	}
	return intSample(int64(fa.table.Used()))
}

func fetchTableAvl(fa *fetchArgs, _ *connInfo) (sample, bool) {
	if fa.table == nil {
		return sample{}, false
	}
	return intSample(int64(fa.table.Size - fa.table.Used()))
}

// compileTable compiles a table_* converter.
func (c *converter) compileTable(pc parser.Converter, env *compileEnv) error {
	sd, ok := stickDataOf(strings.TrimPrefix(pc.Name, "table_"))
	if !ok {
		return fmt.Errorf("unsupported converter '%s'", pc.Name)
	}
	name := ""
	if len(pc.Args) > 0 {
		name = pc.Args[0]
	}
	if c.tbl = env.table(name); c.tbl == nil {
		return fmt.Errorf("converter '%s': no stick-table '%s'", pc.Name, name)
	}
	c.kind, c.in, c.data = cvTable, castAny, sd
	return nil
}

// tableData looks the sample up in the converter's table: 0 when no
// entry has it, no sample when the table does not store the data.
func (c *converter) tableData(smp *sample) bool {
	t := c.tbl
	key, ok := tableKey(t, smp)
	if !ok {
		return false
	}
	e := t.Lookup(key)
	if e == nil {
		if c.data.op != opTrackers && !t.Stores(c.data.d) {
			return false
		}
		*smp, _ = intSample(0)
		return true
	}
	v, ok := readStick(t, e, c.data)
	if ok {
		*smp = v
	}
	return ok
}
