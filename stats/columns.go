package stats

import (
	"fmt"
	"strconv"

	"goproxy/internal/srvstate"
)

// vtype is the type of a typed field, as printed by show stat typed.
type vtype int

const (
	tNone vtype = iota
	tStr
	tU32
	tU64
	tS32
)

func (t vtype) String() string {
	switch t {
	case tStr:
		return "str"
	case tU32:
		return "u32"
	case tU64:
		return "u64"
	case tS32:
		return "s32"
	}
	return ""
}

// tagType is what a field carries on one kind of row: its three tag letters
// (origin, nature, scope) and its type. A zero tagType means the field is
// always empty on that kind of row.
type tagType struct {
	tags string
	typ  vtype
}

// kindMeta is indexed by ObjType.
type kindMeta [4]tagType

// fieldInfo describes one show stat field.
type fieldInfo struct {
	name  string
	desc  string
	get   getter
	kinds kindMeta
}

// value is one field of one row; ok is false for an empty field.
type value struct {
	ok  bool
	str string
	num uint64
	neg int64
	typ vtype
}

func (v value) String() string {
	if !v.ok {
		return ""
	}
	switch v.typ {
	case tStr:
		return v.str
	case tS32:
		return strconv.FormatInt(v.neg, 10)
	}
	return strconv.FormatUint(v.num, 10)
}

func str(s string) value   { return value{ok: true, str: s, typ: tStr} }
func num(n uint64) value   { return value{ok: true, num: n, typ: tU64} }
func signed(n int64) value { return value{ok: true, neg: n, typ: tS32} }
func numi(n int) value     { return num(uint64(int64(n))) }
func boolNum(b bool) value {
	if b {
		return num(1)
	}
	return num(0)
}

// numFields is the number of typed fields (CSV has one more: the "-" marker).
const numFields = len(fieldMeta)

// staticFields is the number of fields before the module counters; the CSV
// prints "-" between them and the module ones.
const staticFields = 103

// beAgg holds a backend's values HAProxy derives from its servers.
type beAgg struct {
	weight, uweight int
	act, bck        int
	nbup, nbsrv     int
}

// rowCtx is what a row needs besides itself to be rendered.
type rowCtx struct {
	showLegends bool // socket level operator or admin: addr, algo, cookie
	hideFlags   bool // up or no-maint requested: backend status gets (nbup/nbsrv)
	be          *beAgg
}

func usable(s *ServerState) bool {
	if s.Weight <= 0 || s.Admin&srvstate.AdminMaint != 0 || s.Admin&srvstate.AdminDrain != 0 {
		return false
	}
	return s.Op == srvstate.OpStarting || s.Op == srvstate.OpRunning
}

// aggregate computes the backend values of each proxy from its server rows.
func aggregate(rows []Row) map[int]*beAgg {
	out := make(map[int]*beAgg)
	type acc struct {
		wact, wbck, uact int
		fbckW, fbckU     int
		haveFbck         bool
		all              bool
		beAgg
		ubck int
	}
	accs := make(map[int]*acc)
	get := func(iid int) *acc {
		a := accs[iid]
		if a == nil {
			a = &acc{}
			accs[iid] = a
		}
		return a
	}
	for i := range rows {
		r := &rows[i]
		switch r.Type {
		case TypeBackend:
			get(r.IID).all = r.AllBackups
		case TypeServer:
			a := get(r.IID)
			s := &r.Server
			a.nbsrv++
			if s.Op != srvstate.OpStopped {
				a.nbup++
			}
			if !usable(s) {
				continue
			}
			if s.Backup {
				if a.bck == 0 {
					a.fbckW, a.fbckU, a.haveFbck = s.Weight, s.UWeight, true
				}
				a.bck++
				a.wbck += s.Weight
				a.ubck += s.UWeight
			} else {
				a.act++
				a.wact += s.Weight
				a.uact += s.UWeight
			}
		}
	}
	for iid, a := range accs {
		b := a.beAgg
		switch {
		case a.act > 0:
			b.weight, b.uweight = a.wact, a.uact
		case a.bck > 0 && a.all:
			b.weight, b.uweight = a.wbck, a.ubck
		case a.bck > 0:
			b.weight, b.uweight = a.fbckW, a.fbckU
		}
		out[iid] = &b
	}
	return out
}

// serverStatus renders a server's status column as HAProxy does.
func serverStatus(s *ServerState) string {
	switch {
	case s.Admin&srvstate.AdminResolutionMaint != 0:
		return "MAINT (resolution)"
	case s.Admin&srvstate.AdminInheritedMaint != 0:
		return "MAINT (via " + s.Tracked + ")"
	case s.Admin&srvstate.AdminMaint != 0:
		return "MAINT"
	}
	c := &s.Check
	checked := c.Enabled
	agent := s.Agent.Enabled
	var f string
	switch s.Op {
	case srvstate.OpRunning, srvstate.OpStarting:
		goingDown := checked && c.Health < c.Rise+c.Fall-1
		switch {
		case s.Admin&srvstate.AdminDrain != 0 && agent:
			return "DRAIN (agent)"
		case s.Admin&srvstate.AdminDrain != 0 && goingDown:
			f = "DRAIN %d/%d"
		case s.Admin&srvstate.AdminDrain != 0:
			return "DRAIN"
		case goingDown:
			f = "UP %d/%d"
		case !checked:
			return "no check"
		default:
			return "UP"
		}
	case srvstate.OpStopping:
		if (!checked && s.Tracked == "") || c.Health == c.Rise+c.Fall-1 {
			return "NOLB"
		}
		f = "NOLB %d/%d"
	default:
		switch {
		case agent && s.Agent.Health == 0:
			return "DOWN (agent)"
		case checked && c.Health == 0:
			return "DOWN"
		case agent || checked:
			return fmt.Sprintf("DOWN %d/%d", c.Health, c.Rise)
		default:
			return "DOWN"
		}
	}
	return fmt.Sprintf(f, c.Health-c.Rise+1, c.Fall)
}

func checkActive(c *Check) bool { return c.Enabled && !c.Paused }

// field returns field pos (typed numbering) of row r.
func field(pos int, r *Row, ctx *rowCtx) value {
	if pos < 0 || pos >= numFields {
		return value{}
	}
	tt := fieldMeta[pos].kinds[r.Type]
	if tt.typ == tNone {
		return value{}
	}
	v := fieldMeta[pos].get(r, ctx)
	if v.ok {
		v.typ = tt.typ
	}
	return v
}
