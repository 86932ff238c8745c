package stats

import (
	"fmt"
	"net"
	"strconv"
)

// getter returns a field of a row; field gives it its type. Each column of
// fieldMeta names its getter.
type getter func(r *Row, ctx *rowCtx) value

func colPxname(r *Row, ctx *rowCtx) value {
	return str(r.Proxy)
}

func colSvname(r *Row, ctx *rowCtx) value {
	switch r.Type {
	case TypeFrontend:
		return str("FRONTEND")
	case TypeBackend:
		return str("BACKEND")
	}
	return str(r.Name)
}

func colQcur(r *Row, ctx *rowCtx) value {
	return num(r.QCur)
}

func colQmax(r *Row, ctx *rowCtx) value {
	return num(r.QMax)
}

func colScur(r *Row, ctx *rowCtx) value {
	return num(r.SCur)
}

func colSmax(r *Row, ctx *rowCtx) value {
	return num(r.SMax)
}

func colSlim(r *Row, ctx *rowCtx) value {
	srv := r.Type == TypeServer
	if srv && r.SLim == 0 {
		return value{}
	}
	return num(r.SLim)
}

func colStot(r *Row, ctx *rowCtx) value {
	return num(r.STot)
}

func colBin(r *Row, ctx *rowCtx) value {
	return num(r.BIn)
}

func colBout(r *Row, ctx *rowCtx) value {
	return num(r.BOut)
}

func colDreq(r *Row, ctx *rowCtx) value {
	return num(r.DReq)
}

func colDresp(r *Row, ctx *rowCtx) value {
	return num(r.DResp)
}

func colEreq(r *Row, ctx *rowCtx) value {
	return num(r.EReq)
}

func colEcon(r *Row, ctx *rowCtx) value {
	return num(r.ECon)
}

func colEresp(r *Row, ctx *rowCtx) value {
	return num(r.EResp)
}

func colWretr(r *Row, ctx *rowCtx) value {
	return num(r.WRetr)
}

func colWredis(r *Row, ctx *rowCtx) value {
	return num(r.WRedis)
}

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

func colLastchg(r *Row, ctx *rowCtx) value {
	return num(r.LastChg)
}

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

func colPid(r *Row, ctx *rowCtx) value {
	return num(1)
}

func colIid(r *Row, ctx *rowCtx) value {
	return numi(r.IID)
}

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

func colLbtot(r *Row, ctx *rowCtx) value {
	return num(r.LbTot)
}

func colTracked(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if s.Tracked == "" {
		return value{}
	}
	return str(s.Tracked)
}

func colType(r *Row, ctx *rowCtx) value {
	return numi(int(r.Type))
}

func colRate(r *Row, ctx *rowCtx) value {
	return num(r.Rate)
}

func colRateLim(r *Row, ctx *rowCtx) value {
	return num(r.RateLim)
}

func colRateMax(r *Row, ctx *rowCtx) value {
	return num(r.RateMax)
}

func colCheckStatus(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Check) {
		return value{}
	}
	code := s.Check.Status.Code()
	if s.Check.InProgress {
		code = "* " + code
	}
	return str(code)
}

func colCheckCode(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Check) || s.Check.Status < CheckL57Data {
		return value{}
	}
	return numi(s.Check.Code)
}

func colCheckDuration(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Check) || s.Check.Status < CheckChecked || s.Check.Duration < 0 {
		return value{}
	}
	return num(uint64(s.Check.Duration.Milliseconds()))
}

func colReqTot(r *Row, ctx *rowCtx) value {
	http := r.Mode == "http"
	if r.Type != TypeFrontend && !http {
		return value{}
	}
	return num(r.HTTP.ReqTot)
}

func colReqRate(r *Row, ctx *rowCtx) value {
	return num(r.HTTP.ReqRate)
}

func colReqRateMax(r *Row, ctx *rowCtx) value {
	return num(r.HTTP.ReqRateMax)
}

// colHanafail is empty: HAProxy counts there the failed checks an
// "observe" directive caused, and goproxy has no "observe".
func colHanafail(r *Row, ctx *rowCtx) value {
	return value{}
}

func colWrew(r *Row, ctx *rowCtx) value {
	return num(r.WRew)
}

func colReuse(r *Row, ctx *rowCtx) value {
	return num(r.Reuse)
}

func colCliAbrt(r *Row, ctx *rowCtx) value {
	return num(r.CliAbrt)
}

func colSrvAbrt(r *Row, ctx *rowCtx) value {
	return num(r.SrvAbrt)
}

func colLastsess(r *Row, ctx *rowCtx) value {
	return signed(r.LastSess)
}

func colLastChk(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Check) {
		return value{}
	}
	return str(s.Check.Info)
}

func colLastAgt(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Agent) {
		return value{}
	}
	return str(s.Agent.Info)
}

func colQtime(r *Row, ctx *rowCtx) value {
	return num(r.QTime)
}

func colCtime(r *Row, ctx *rowCtx) value {
	return num(r.CTime)
}

func colRtime(r *Row, ctx *rowCtx) value {
	return num(r.RTime)
}

func colTtime(r *Row, ctx *rowCtx) value {
	return num(r.TTime)
}

func colAgentStatus(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Agent) {
		return value{}
	}
	code := s.Agent.Status.Code()
	if s.Agent.InProgress {
		code = "* " + code
	}
	return str(code)
}

func colAgentCode(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Agent) || s.Agent.Status < CheckL57Data {
		return value{}
	}
	return numi(s.Agent.Code)
}

func colAgentDuration(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Agent) || s.Agent.Duration < 0 {
		return value{}
	}
	return num(uint64(s.Agent.Duration.Milliseconds()))
}

func colCheckDesc(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Check) {
		return value{}
	}
	return str(s.Check.Status.Desc())
}

func colAgentDesc(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Agent) {
		return value{}
	}
	return str(s.Agent.Status.Desc())
}

func colCheckRise(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Check) {
		return value{}
	}
	return numi(s.Check.Rise)
}

func colCheckFall(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Check) {
		return value{}
	}
	return numi(s.Check.Fall)
}

func colCheckHealth(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Check) {
		return value{}
	}
	return numi(s.Check.Health)
}

func colAgentRise(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Agent) {
		return value{}
	}
	return numi(s.Agent.Rise)
}

func colAgentFall(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Agent) {
		return value{}
	}
	return numi(s.Agent.Fall)
}

func colAgentHealth(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if !checkActive(&s.Agent) {
		return value{}
	}
	return numi(s.Agent.Health)
}

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

func colMode(r *Row, ctx *rowCtx) value {
	return str(r.Mode)
}

func colAlgo(r *Row, ctx *rowCtx) value {
	if !ctx.showLegends {
		return value{}
	}
	return str(r.Algo)
}

func colConnRate(r *Row, ctx *rowCtx) value {
	return num(r.ConnRate)
}

func colConnRateMax(r *Row, ctx *rowCtx) value {
	return num(r.ConnRateMax)
}

func colConnTot(r *Row, ctx *rowCtx) value {
	return num(r.ConnTot)
}

func colDcon(r *Row, ctx *rowCtx) value {
	return num(r.DCon)
}

func colDses(r *Row, ctx *rowCtx) value {
	return num(r.DSes)
}

func colConnect(r *Row, ctx *rowCtx) value {
	return num(r.Connect)
}

func colSrvIcur(r *Row, ctx *rowCtx) value {
	s := &r.Server
	return num(s.SrvICur)
}

func colSrcIlim(r *Row, ctx *rowCtx) value {
	s := &r.Server
	if s.IdleLimit <= 0 {
		return value{}
	}
	return numi(s.IdleLimit)
}

func colQtimeMax(r *Row, ctx *rowCtx) value {
	return num(r.QTimeMax)
}

func colCtimeMax(r *Row, ctx *rowCtx) value {
	return num(r.CTimeMax)
}

func colRtimeMax(r *Row, ctx *rowCtx) value {
	return num(r.RTimeMax)
}

func colTtimeMax(r *Row, ctx *rowCtx) value {
	return num(r.TTimeMax)
}

func colEint(r *Row, ctx *rowCtx) value {
	return num(r.EInt)
}

func colIdleConnCur(r *Row, ctx *rowCtx) value {
	s := &r.Server
	return num(s.IdleConnCur)
}

func colSafeConnCur(r *Row, ctx *rowCtx) value {
	s := &r.Server
	return num(s.SafeConnCur)
}

func colUsedConnCur(r *Row, ctx *rowCtx) value {
	s := &r.Server
	return num(s.UsedConnCur)
}

func colNeedConnEst(r *Row, ctx *rowCtx) value {
	s := &r.Server
	return num(s.NeedConnEst)
}

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
