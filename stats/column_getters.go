package stats

import (
	"fmt"
	"net"
	"strconv"

	"goproxy/internal/srvstate"
)

// getter returns a field of a row; field gives it its type. Each column of
// fieldMeta names its getter.
type getter func(r *Row, ctx *rowCtx) value

func colPxname(r *Row, ctx *rowCtx) value { return str(r.Proxy) }

func colSvname(r *Row, ctx *rowCtx) value {
	switch r.Type {
	case TypeFrontend:
		return str("FRONTEND")
	case TypeBackend:
		return str("BACKEND")
	}
	return str(r.Name)
}

func colQcur(r *Row, ctx *rowCtx) value { return num(r.QCur) }
func colQmax(r *Row, ctx *rowCtx) value { return num(r.QMax) }
func colScur(r *Row, ctx *rowCtx) value { return num(r.SCur) }
func colSmax(r *Row, ctx *rowCtx) value { return num(r.SMax) }

func colSlim(r *Row, ctx *rowCtx) value {
	srv := r.Type == TypeServer
	if srv && r.SLim == 0 {
		return value{}
	}
	return num(r.SLim)
}

func colStot(r *Row, ctx *rowCtx) value   { return num(r.STot) }
func colBin(r *Row, ctx *rowCtx) value    { return num(r.BIn) }
func colBout(r *Row, ctx *rowCtx) value   { return num(r.BOut) }
func colDreq(r *Row, ctx *rowCtx) value   { return num(r.DReq) }
func colDresp(r *Row, ctx *rowCtx) value  { return num(r.DResp) }
func colEreq(r *Row, ctx *rowCtx) value   { return num(r.EReq) }
func colEcon(r *Row, ctx *rowCtx) value   { return num(r.ECon) }
func colEresp(r *Row, ctx *rowCtx) value  { return num(r.EResp) }
func colWretr(r *Row, ctx *rowCtx) value  { return num(r.WRetr) }
func colWredis(r *Row, ctx *rowCtx) value { return num(r.WRedis) }

func colStatus(r *Row, ctx *rowCtx) value {
	s := &r.Server
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
}

func colWeight(r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	if srv {
		return numi(s.Weight)
	}
	return numi(ctx.be.weight)
}

func colAct(r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	if srv {
		return boolNum(!s.Backup)
	}
	return numi(ctx.be.act)
}

func colBck(r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	if srv {
		return boolNum(s.Backup)
	}
	return numi(ctx.be.bck)
}

func colChkfail(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !s.Check.Enabled {
		return value{}
	}
	return num(s.ChkFail)
}

func colChkdown(r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	if srv && !s.Check.Enabled {
		return value{}
	}
	return num(r.ChkDown)
}

func colLastchg(r *Row, ctx *rowCtx) value { return num(r.LastChg) }

func colDowntime(r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	if srv && !s.Check.Enabled {
		return value{}
	}
	if r.Type == TypeBackend && ctx.be.nbsrv == 0 {
		return value{} // no servers: no downtime, as HAProxy
	}
	return num(r.Downtime)
}

func colQlimit(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if s.MaxQueue == 0 {
		return value{}
	}
	return num(s.MaxQueue)
}

func colPid(r *Row, ctx *rowCtx) value { return num(1) }
func colIid(r *Row, ctx *rowCtx) value { return numi(r.IID) }

func colSid(r *Row, ctx *rowCtx) value {
	if r.Type == TypeFrontend || r.Type == TypeBackend {
		return num(0)
	}
	return numi(r.SID)
}

func colThrottle(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !s.ThrottleSet {
		return value{}
	}
	return numi(s.Throttle)
}

func colLbtot(r *Row, ctx *rowCtx) value { return num(r.LbTot) }

func colTracked(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if s.Tracked == "" {
		return value{}
	}
	return str(s.Tracked)
}

func colType(r *Row, ctx *rowCtx) value    { return numi(int(r.Type)) }
func colRate(r *Row, ctx *rowCtx) value    { return num(r.Rate) }
func colRateLim(r *Row, ctx *rowCtx) value { return num(r.RateLim) }
func colRateMax(r *Row, ctx *rowCtx) value { return num(r.RateMax) }

func colReqTot(r *Row, ctx *rowCtx) value {
	http := r.Mode == "http"
	if r.Type != TypeFrontend && !http {
		return value{}
	}
	return num(r.HTTP.ReqTot)
}

func colReqRate(r *Row, ctx *rowCtx) value    { return num(r.HTTP.ReqRate) }
func colReqRateMax(r *Row, ctx *rowCtx) value { return num(r.HTTP.ReqRateMax) }

// colHanafail is empty: HAProxy counts there the failed checks an
// "observe" directive caused, and goproxy has no "observe".
func colHanafail(r *Row, ctx *rowCtx) value { return value{} }
func colWrew(r *Row, ctx *rowCtx) value     { return num(r.WRew) }
func colReuse(r *Row, ctx *rowCtx) value    { return num(r.Reuse) }
func colCliAbrt(r *Row, ctx *rowCtx) value  { return num(r.CliAbrt) }
func colSrvAbrt(r *Row, ctx *rowCtx) value  { return num(r.SrvAbrt) }
func colLastsess(r *Row, ctx *rowCtx) value { return signed(r.LastSess) }
func colQtime(r *Row, ctx *rowCtx) value    { return num(r.QTime) }
func colCtime(r *Row, ctx *rowCtx) value    { return num(r.CTime) }
func colRtime(r *Row, ctx *rowCtx) value    { return num(r.RTime) }
func colTtime(r *Row, ctx *rowCtx) value    { return num(r.TTime) }

func colAddr(r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	a := r.Addr
	if a == "" && srv && s.Host != "" {
		a = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	}
	if !ctx.showLegends || a == "" {
		return value{}
	}
	return str(a)
}

func colCookie(r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	if !ctx.showLegends || !srv || s.Cookie == "" {
		return value{}
	}
	return str(s.Cookie)
}

func colMode(r *Row, ctx *rowCtx) value { return str(r.Mode) }

func colAlgo(r *Row, ctx *rowCtx) value {
	if !ctx.showLegends {
		return value{}
	}
	return str(r.Algo)
}

func colConnRate(r *Row, ctx *rowCtx) value    { return num(r.ConnRate) }
func colConnRateMax(r *Row, ctx *rowCtx) value { return num(r.ConnRateMax) }
func colConnTot(r *Row, ctx *rowCtx) value     { return num(r.ConnTot) }
func colDcon(r *Row, ctx *rowCtx) value        { return num(r.DCon) }
func colDses(r *Row, ctx *rowCtx) value        { return num(r.DSes) }
func colConnect(r *Row, ctx *rowCtx) value     { return num(r.Connect) }
func colSrvIcur(r *Row, ctx *rowCtx) value     { return num(r.Server.SrvICur) }

func colSrcIlim(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if s.Dynamic && s.IdleLimit == 0 {
		return numi(0) // no default-server: HAProxy's limit stays 0, shown
	}
	if s.IdleLimit <= 0 {
		return value{}
	}
	return numi(s.IdleLimit)
}

func colQtimeMax(r *Row, ctx *rowCtx) value    { return num(r.QTimeMax) }
func colCtimeMax(r *Row, ctx *rowCtx) value    { return num(r.CTimeMax) }
func colRtimeMax(r *Row, ctx *rowCtx) value    { return num(r.RTimeMax) }
func colTtimeMax(r *Row, ctx *rowCtx) value    { return num(r.TTimeMax) }
func colEint(r *Row, ctx *rowCtx) value        { return num(r.EInt) }
func colIdleConnCur(r *Row, ctx *rowCtx) value { return num(r.Server.IdleConnCur) }
func colSafeConnCur(r *Row, ctx *rowCtx) value { return num(r.Server.SafeConnCur) }
func colUsedConnCur(r *Row, ctx *rowCtx) value { return num(r.Server.UsedConnCur) }
func colNeedConnEst(r *Row, ctx *rowCtx) value { return num(r.Server.NeedConnEst) }

func colUweight(r *Row, ctx *rowCtx) value {
	s := &r.Server
	srv := r.Type == TypeServer
	if srv {
		return numi(s.UWeight)
	}
	return numi(ctx.be.uweight)
}

// colHrsp is the accessor of hrsp_1xx (class 0) to hrsp_5xx (4) and
// hrsp_other (5).
func colHrsp(class int) getter {
	return func(r *Row, ctx *rowCtx) value {
		if r.Mode != "http" {
			return value{}
		}
		return num(r.HTTP.Rsp[class])
	}
}

func colIntercepted(r *Row, ctx *rowCtx) value {
	if r.Mode != "http" || r.Type != TypeFrontend {
		return value{}
	}
	return num(r.HTTP.Intercepted)
}

// colHTTPZero is a counter of HTTP proxies goproxy does not have (the
// cache): 0 on HTTP rows, empty on the others.
func colHTTPZero(r *Row, ctx *rowCtx) value {
	if r.Mode != "http" {
		return value{}
	}
	return num(0)
}

// colZero is a counter goproxy does not have (agg_*, compression, the
// ssl, h2 and h1 module counters): always 0.
func colZero(r *Row, ctx *rowCtx) value { return num(0) }

// ofCheck and ofAgent make the getter of a column of the health check or
// of the agent check: empty while that check is not active (disabled or
// paused), else get's value of it.
func ofCheck(get func(c *Check) value) getter {
	return func(r *Row, ctx *rowCtx) value {
		if !checkActive(&r.Server.Check) {
			return value{}
		}
		return get(&r.Server.Check)
	}
}

func ofAgent(get func(c *Check) value) getter {
	return func(r *Row, ctx *rowCtx) value {
		if !checkActive(&r.Server.Agent) {
			return value{}
		}
		return get(&r.Server.Agent)
	}
}

// chkStatus is check_status and agent_status: the status code, prefixed
// with "* " while a check runs.
func chkStatus(c *Check) value {
	code := c.Status.Name()
	if c.InProgress {
		code = "* " + code
	}
	return str(code)
}

// chkCode is check_code and agent_code: the layer 5-7 code, once a check
// got that far.
func chkCode(c *Check) value {
	if c.Status < srvstate.CheckL57Data {
		return value{}
	}
	return numi(c.Code)
}

func chkInfo(c *Check) value   { return str(c.Info) }
func chkDesc(c *Check) value   { return str(c.Status.Desc()) }
func chkRise(c *Check) value   { return numi(c.Rise) }
func chkFall(c *Check) value   { return numi(c.Fall) }
func chkHealth(c *Check) value { return numi(c.Health) }

// checkDuration is check_duration: empty until a check completed.
func checkDuration(c *Check) value {
	if c.Status < srvstate.CheckChecked {
		return value{}
	}
	return agentDuration(c)
}

// agentDuration is agent_duration: empty while no check ran.
func agentDuration(c *Check) value {
	if c.Duration < 0 {
		return value{}
	}
	return num(uint64(c.Duration.Milliseconds()))
}
