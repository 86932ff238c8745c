package stats

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"goproxy/internal/srvstate"
)

const serversStateHeader = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state " +
	"srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result " +
	"srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn " +
	"srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"

// checkStateBits returns HAProxy's CHK_ST_* bits of c.
func checkStateBits(c *Check) srvstate.ProbeState {
	var st srvstate.ProbeState
	if c.InProgress {
		st |= srvstate.ProbeInProgress
	}
	if c.Configured {
		st |= srvstate.ProbeConfigured
	}
	if c.Enabled {
		st |= srvstate.ProbeEnabled
	}
	if c.Paused {
		st |= srvstate.ProbePaused
	}
	return st
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// hasBackend reports whether rows hold a backend named name.
func hasBackend(rows []Row, name string) bool {
	for i := range rows {
		if rows[i].Type == TypeBackend && rows[i].Proxy == name {
			return true
		}
	}
	return false
}

// serverRows returns the server rows of the backend the command names
// (args[3]), or of every backend when it names none; errAnswer is
// HAProxy's when that backend does not exist.
func serverRows(s *session, args []string) (rows []*Row, errAnswer string) {
	all := s.srv.src.Stats()
	want := argAt(args, 3)
	if want != "" && !hasBackend(all, want) {
		return nil, "Can't find backend.\n"
	}
	for i := range all {
		if r := &all[i]; r.Type == TypeServer && (want == "" || r.Proxy == want) {
			rows = append(rows, r)
		}
	}
	return rows, ""
}

func cmdShowServersState(s *session, args []string) string {
	rows, errAnswer := serverRows(s, args)
	if errAnswer != "" {
		return errAnswer
	}
	var b bytes.Buffer
	b.WriteString(serversStateHeader)
	for _, r := range rows {
		sv := &r.Server
		fmt.Fprintf(&b, "%d %s %d %s %s %d %d %d %d %d %d %d %d %d %d %d %d %s %d %s %d %d %s %s %d\n",
			r.IID, r.Proxy, r.SID, r.Name, dash(sv.Host), sv.Op, sv.Admin, sv.UWeight, sv.IWeight,
			r.LastChg, sv.Check.Status, sv.Check.Result, sv.Check.Health, checkStateBits(&sv.Check),
			checkStateBits(&sv.Agent), b2i(sv.BackendForcedID), b2i(sv.ForcedID), dash(sv.FQDN), sv.Port,
			dash(sv.SRVRecord), b2i(sv.UseSSL), sv.CheckPort, dash(sv.CheckAddr), dash(sv.AgentAddr), sv.AgentPort)
	}
	return b.String()
}

func cmdShowServersConn(s *session, args []string) string {
	rows, errAnswer := serverRows(s, args)
	if errAnswer != "" {
		return errAnswer
	}
	var b bytes.Buffer
	b.WriteString("# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[2]\n")
	for _, r := range rows {
		sv := &r.Server
		if sv.Dynamic {
			// No default-server, hence no purge delay and no idle
			// limit, and no per-thread idle lists to show.
			fmt.Fprintf(&b, "%s/%s %d/%d %s %d - 0 %d %d %d 0 %d 0 %d\n",
				r.Proxy, r.Name, r.IID, r.SID, dash(sv.Host), sv.Port, sv.UsedConnCur, sv.UsedConnMax,
				sv.NeedConnEst, sv.SafeConnCur, sv.IdleConnCur)
			continue
		}
		idleLim := sv.IdleLimit
		if idleLim <= 0 {
			idleLim = -1
		}
		fmt.Fprintf(&b, "%s/%s %d/%d %s %d - 5000 %d %d %d 0 %d %d %d 0 0\n",
			r.Proxy, r.Name, r.IID, r.SID, dash(sv.Host), sv.Port, sv.UsedConnCur, sv.UsedConnMax,
			sv.NeedConnEst, sv.SafeConnCur, idleLim, sv.IdleConnCur)
	}
	return b.String()
}

func cmdShowBackend(s *session, args []string) string {
	var b strings.Builder
	b.WriteString("# name\n")
	for _, r := range s.srv.src.Stats() {
		if r.Type == TypeBackend {
			b.WriteString(r.Proxy)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// findServer resolves a "backend/server" argument the way HAProxy's
// cli_find_server does, returning the row or the error text.
func findServer(rows []Row, arg string) (*Row, string) {
	i := strings.IndexByte(arg, '/')
	if arg == "" || i < 0 {
		return nil, "Require 'backend/server'.\n"
	}
	be, sv := arg[:i], arg[i+1:]
	if !hasBackend(rows, be) {
		return nil, "No such backend.\n"
	}
	for k := range rows {
		if rows[k].Type == TypeServer && rows[k].Proxy == be && rows[k].Name == sv {
			return &rows[k], ""
		}
	}
	return nil, "No such server.\n"
}

func cmdGetWeight(s *session, args []string) string {
	r, msg := findServer(s.srv.src.Stats(), argAt(args, 2))
	if r == nil {
		return msg
	}
	return fmt.Sprintf("%d (initial %d)\n", r.Server.UWeight, r.Server.IWeight)
}

// fmtAge prints a duration as HAProxy's human_time: "50s", "2m3s", "1h2m".
func fmtAge(d time.Duration) string {
	sec := int64(d / time.Second)
	if sec <= 0 {
		return "0s"
	}
	var b strings.Builder
	days, h, m, sc := sec/86400, sec/3600%24, sec/60%60, sec%60
	n := 0
	for _, p := range []struct {
		v int64
		u string
	}{{days, "d"}, {h, "h"}, {m, "m"}, {sc, "s"}} {
		if p.v == 0 && n == 0 {
			continue
		}
		if n == 2 {
			break
		}
		if p.v != 0 {
			fmt.Fprintf(&b, "%d%s", p.v, p.u)
		}
		n++
	}
	return b.String()
}

func cmdShowSess(s *session, args []string) string {
	var b strings.Builder
	sess := s.srv.src.Sessions()
	sort.SliceStable(sess, func(i, j int) bool { return sess[i].ID < sess[j].ID })
	for _, x := range sess {
		be, sv := x.Backend, x.Server
		if be == "" {
			be = "<NONE>"
		}
		if sv == "" {
			sv = "<none>"
		}
		fmt.Fprintf(&b, "%#x: proto=%s src=%s fe=%s be=%s srv=%s age=%s\n",
			x.ID, x.Proto, x.Src, x.Frontend, be, sv, fmtAge(x.Age))
	}
	fmt.Fprintf(&b, "%#x: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> age=%s\n",
		cliSessionBase+s.id<<12, fmtAge(time.Since(s.start)))
	return b.String()
}

// cliSessionBase keeps CLI session ids apart from proxied sessions' ids in
// show sess.
const cliSessionBase = 0x7fc000000000

func cmdShowErrors(s *session, args []string) string {
	return "Total events captured on [" + time.Now().Format("02/Jan/2006:15:04:05.000") + "] : 0\n"
}

func cmdShowEnv(s *session, args []string) string {
	var b strings.Builder
	if len(args) > 2 {
		v, ok := os.LookupEnv(args[2])
		if !ok {
			return "Variable not found\n"
		}
		return args[2] + "=" + v + "\n"
	}
	for _, e := range os.Environ() {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.String()
}
