package stats

import (
	"fmt"
	"net"
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
	v := rawField(pos, r, ctx)
	if v.ok {
		v.typ = tt.typ
	}
	return v
}

func rawField(pos int, r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	http := r.Mode == "http"
	switch fieldMeta[pos].name {
	case "pxname":
		return str(r.Proxy)
	case "svname":
		switch r.Type {
		case TypeFrontend:
			return str("FRONTEND")
		case TypeBackend:
			return str("BACKEND")
		}
		return str(r.Name)
	case "qcur":
		return num(r.QCur)
	case "qmax":
		return num(r.QMax)
	case "scur":
		return num(r.SCur)
	case "smax":
		return num(r.SMax)
	case "slim":
		if srv && r.SLim == 0 {
			return value{}
		}
		return num(r.SLim)
	case "stot":
		return num(r.STot)
	case "bin":
		return num(r.BIn)
	case "bout":
		return num(r.BOut)
	case "dreq":
		return num(r.DReq)
	case "dresp":
		return num(r.DResp)
	case "ereq":
		return num(r.EReq)
	case "econ":
		return num(r.ECon)
	case "eresp":
		return num(r.EResp)
	case "wretr":
		return num(r.WRetr)
	case "wredis":
		return num(r.WRedis)
	case "status":
		switch r.Type {
		case TypeFrontend:
			switch r.FrontState {
			case FrontPaused:
				return str("PAUSED")
			case FrontStopped:
				return str("STOP")
			}
			return str("OPEN")
		case TypeListener:
			return str(r.ListenerStatus)
		case TypeServer:
			return str(serverStatus(s))
		}
		st := "DOWN"
		if ctx.be.weight > 0 || ctx.be.nbsrv == 0 {
			st = "UP"
		}
		if ctx.hideFlags {
			st += fmt.Sprintf(" (%d/%d)", ctx.be.nbup, ctx.be.nbsrv)
		}
		return str(st)
	case "weight":
		if srv {
			return numi(s.Weight)
		}
		return numi(ctx.be.weight)
	case "act":
		if srv {
			return boolNum(!s.Backup)
		}
		return numi(ctx.be.act)
	case "bck":
		if srv {
			return boolNum(s.Backup)
		}
		return numi(ctx.be.bck)
	case "chkfail":
		if !s.Check.Enabled {
			return value{}
		}
		return num(s.ChkFail)
	case "chkdown":
		if srv && !s.Check.Enabled {
			return value{}
		}
		return num(r.ChkDown)
	case "lastchg":
		return num(r.LastChg)
	case "downtime":
		if srv && !s.Check.Enabled {
			return value{}
		}
		if r.Type == TypeBackend && ctx.be.nbsrv == 0 {
			return value{} // no servers: no downtime, as HAProxy
		}
		return num(r.Downtime)
	case "qlimit":
		if s.MaxQueue == 0 {
			return value{}
		}
		return num(s.MaxQueue)
	case "pid":
		return num(1)
	case "iid":
		return numi(r.IID)
	case "sid":
		if r.Type == TypeFrontend || r.Type == TypeBackend {
			return num(0)
		}
		return numi(r.SID)
	case "throttle":
		if !s.ThrottleSet {
			return value{}
		}
		return numi(s.Throttle)
	case "lbtot":
		return num(r.LbTot)
	case "tracked":
		if s.Tracked == "" {
			return value{}
		}
		return str(s.Tracked)
	case "type":
		return numi(int(r.Type))
	case "rate":
		return num(r.Rate)
	case "rate_lim":
		return num(r.RateLim)
	case "rate_max":
		return num(r.RateMax)
	case "check_status":
		if !checkActive(&s.Check) {
			return value{}
		}
		code := s.Check.Status.Name()
		if s.Check.InProgress {
			code = "* " + code
		}
		return str(code)
	case "check_code":
		if !checkActive(&s.Check) || s.Check.Status < srvstate.CheckL57Data {
			return value{}
		}
		return numi(s.Check.Code)
	case "check_duration":
		if !checkActive(&s.Check) || s.Check.Status < srvstate.CheckChecked || s.Check.Duration < 0 {
			return value{}
		}
		return num(uint64(s.Check.Duration.Milliseconds()))
	case "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other":
		if !http {
			return value{}
		}
		i := 5 // hrsp_other
		if c := fieldMeta[pos].name[5]; c >= '1' && c <= '5' {
			i = int(c - '1')
		}
		return num(r.HTTP.Rsp[i])
	case "intercepted", "cache_lookups", "cache_hits":
		if !http {
			return value{}
		}
		if fieldMeta[pos].name == "intercepted" {
			if r.Type != TypeFrontend {
				return value{}
			}
			return num(r.HTTP.Intercepted)
		}
		return num(0)
	case "req_tot":
		if r.Type != TypeFrontend && !http {
			return value{}
		}
		return num(r.HTTP.ReqTot)
	case "req_rate":
		return num(r.HTTP.ReqRate)
	case "req_rate_max":
		return num(r.HTTP.ReqRateMax)
	case "hanafail":
		return value{}
	case "wrew":
		return num(r.WRew)
	case "reuse":
		return num(r.Reuse)
	case "cli_abrt":
		return num(r.CliAbrt)
	case "srv_abrt":
		return num(r.SrvAbrt)
	case "lastsess":
		return signed(r.LastSess)
	case "last_chk":
		if !checkActive(&s.Check) {
			return value{}
		}
		return str(s.Check.Info)
	case "last_agt":
		if !checkActive(&s.Agent) {
			return value{}
		}
		return str(s.Agent.Info)
	case "qtime":
		return num(r.QTime)
	case "ctime":
		return num(r.CTime)
	case "rtime":
		return num(r.RTime)
	case "ttime":
		return num(r.TTime)
	case "agent_status":
		if !checkActive(&s.Agent) {
			return value{}
		}
		code := s.Agent.Status.Name()
		if s.Agent.InProgress {
			code = "* " + code
		}
		return str(code)
	case "agent_code":
		if !checkActive(&s.Agent) || s.Agent.Status < srvstate.CheckL57Data {
			return value{}
		}
		return numi(s.Agent.Code)
	case "agent_duration":
		if !checkActive(&s.Agent) || s.Agent.Duration < 0 {
			return value{}
		}
		return num(uint64(s.Agent.Duration.Milliseconds()))
	case "check_desc":
		if !checkActive(&s.Check) {
			return value{}
		}
		return str(s.Check.Status.Desc())
	case "agent_desc":
		if !checkActive(&s.Agent) {
			return value{}
		}
		return str(s.Agent.Status.Desc())
	case "check_rise":
		if !checkActive(&s.Check) {
			return value{}
		}
		return numi(s.Check.Rise)
	case "check_fall":
		if !checkActive(&s.Check) {
			return value{}
		}
		return numi(s.Check.Fall)
	case "check_health":
		if !checkActive(&s.Check) {
			return value{}
		}
		return numi(s.Check.Health)
	case "agent_rise":
		if !checkActive(&s.Agent) {
			return value{}
		}
		return numi(s.Agent.Rise)
	case "agent_fall":
		if !checkActive(&s.Agent) {
			return value{}
		}
		return numi(s.Agent.Fall)
	case "agent_health":
		if !checkActive(&s.Agent) {
			return value{}
		}
		return numi(s.Agent.Health)
	case "addr":
		a := r.Addr
		if a == "" && srv && s.Host != "" {
			a = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		}
		if !ctx.showLegends || a == "" {
			return value{}
		}
		return str(a)
	case "cookie":
		if !ctx.showLegends || !srv || s.Cookie == "" {
			return value{}
		}
		return str(s.Cookie)
	case "mode":
		return str(r.Mode)
	case "algo":
		if !ctx.showLegends {
			return value{}
		}
		return str(r.Algo)
	case "conn_rate":
		return num(r.ConnRate)
	case "conn_rate_max":
		return num(r.ConnRateMax)
	case "conn_tot":
		return num(r.ConnTot)
	case "dcon":
		return num(r.DCon)
	case "dses":
		return num(r.DSes)
	case "connect":
		return num(r.Connect)
	case "srv_icur":
		return num(s.SrvICur)
	case "src_ilim":
		if s.IdleLimit <= 0 {
			return value{}
		}
		return numi(s.IdleLimit)
	case "qtime_max":
		return num(r.QTimeMax)
	case "ctime_max":
		return num(r.CTimeMax)
	case "rtime_max":
		return num(r.RTimeMax)
	case "ttime_max":
		return num(r.TTimeMax)
	case "eint":
		return num(r.EInt)
	case "idle_conn_cur":
		return num(s.IdleConnCur)
	case "safe_conn_cur":
		return num(s.SafeConnCur)
	case "used_conn_cur":
		return num(s.UsedConnCur)
	case "need_conn_est":
		return num(s.NeedConnEst)
	case "uweight":
		if srv {
			return numi(s.UWeight)
		}
		return numi(ctx.be.uweight)
	}
	// agg_* and the module counters (ssl, h2, h1).
	return num(0)
}
