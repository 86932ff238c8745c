package stats

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// Version strings goproxy reports as HAProxy 2.6 does, unless the Source
// provides its own.
const (
	defaultVersion     = "2.6.12-1+deb12u4"
	defaultReleaseDate = "2026/10/17"
)

// infoField describes one show info field.
type infoField struct {
	pos  int
	name string
	tags string
	typ  vtype
	desc string
}

// cliCounts are the stats server's own contributions to show info.
type cliCounts struct {
	start     time.Time // used when the Source gives no start time
	active    uint64    // open CLI sessions
	total     uint64    // CLI sessions since start
	listeners uint64    // CLI sockets
}

func (s *Server) cliCounts() cliCounts {
	return cliCounts{start: s.start, active: uint64(s.activeConns()), total: s.cumConns.Load(),
		listeners: uint64(len(s.socks))}
}

func (s *Server) infoValues() map[string]value {
	return infoValues(s.src.Info(), s.cliCounts())
}

// infoValues returns the show info values of in, by field name; a missing
// name is an empty field.
func infoValues(in Info, cc cliCounts) map[string]value {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	if in.Version == "" {
		in.Version = defaultVersion
	}
	if in.ReleaseDate == "" {
		in.ReleaseDate = defaultReleaseDate
	}
	start := in.Start
	if start.IsZero() {
		start = cc.start
	}
	up := now.Sub(start)
	if up < 0 {
		up = 0
	}
	secs := uint64(up / time.Second)
	cli, nlis := cc.active, cc.listeners
	const mb = 1 << 20
	v := map[string]value{
		"Name":                        str("HAProxy"),
		"Version":                     str(in.Version),
		"Release_date":                str(in.ReleaseDate),
		"Nbthread":                    numi(in.Nbthread),
		"Nbproc":                      num(1),
		"Process_num":                 num(1),
		"Pid":                         numi(in.Pid),
		"Uptime":                      str(fmt.Sprintf("%dd %dh%02dm%02ds", secs/86400, secs/3600%24, secs/60%60, secs%60)),
		"Uptime_sec":                  num(secs),
		"Memmax_MB":                   num(0),
		"PoolAlloc_MB":                num(in.PoolAllocBytes / mb),
		"PoolUsed_MB":                 num(in.PoolUsedBytes / mb),
		"PoolFailed":                  num(0),
		"Ulimit-n":                    numi(in.UlimitN),
		"Maxsock":                     numi(in.Maxsock),
		"Maxconn":                     numi(in.Maxconn),
		"Hard_maxconn":                numi(in.HardMaxconn),
		"CurrConns":                   num(in.CurrConns), // CLI connections are unlimited, not counted
		"CumConns":                    num(in.CumConns + cc.total),
		"CumReq":                      num(in.CumReq),
		"MaxSslConns":                 num(0),
		"CurrSslConns":                num(0),
		"CumSslConns":                 num(0),
		"Maxpipes":                    num(0),
		"PipesUsed":                   num(0),
		"PipesFree":                   num(0),
		"ConnRate":                    num(in.ConnRate),
		"ConnRateLimit":               num(in.ConnRateLimit),
		"MaxConnRate":                 num(in.MaxConnRate),
		"SessRate":                    num(in.SessRate),
		"SessRateLimit":               num(in.SessRateLimit),
		"MaxSessRate":                 num(in.MaxSessRate),
		"SslRate":                     num(0),
		"SslRateLimit":                num(0),
		"MaxSslRate":                  num(0),
		"SslFrontendKeyRate":          num(0),
		"SslFrontendMaxKeyRate":       num(0),
		"SslFrontendSessionReuse_pct": num(0),
		"SslBackendKeyRate":           num(0),
		"SslBackendMaxKeyRate":        num(0),
		"SslCacheLookups":             num(0),
		"SslCacheMisses":              num(0),
		"CompressBpsIn":               num(0),
		"CompressBpsOut":              num(0),
		"CompressBpsRateLim":          num(0),
		"Tasks":                       num(in.Tasks),
		"Run_queue":                   num(in.RunQueue),
		"Idle_pct":                    num(in.IdlePct),
		"node":                        str(in.Node),
		"Stopping":                    boolNum(in.Stopping),
		"Jobs":                        num(in.Jobs + cli + nlis),
		"Unstoppable Jobs":            num(0),
		"Listeners":                   num(in.Listeners + nlis),
		"ActivePeers":                 num(in.ActivePeers),
		"ConnectedPeers":              num(in.ConnectedPeers),
		"DroppedLogs":                 num(in.DroppedLogs),
		"BusyPolling":                 num(0),
		"FailedResolutions":           num(0),
		"TotalBytesOut":               num(in.TotalBytesOut),
		"TotalSplicdedBytesOut":       num(0),
		"BytesOutRate":                num(in.BytesOutRate),
		"DebugCommandsIssued":         num(0),
		"CumRecvLogs":                 num(0),
		"Build info":                  str(in.Version),
		"Memmax_bytes":                num(0),
		"PoolAlloc_bytes":             num(in.PoolAllocBytes),
		"PoolUsed_bytes":              num(in.PoolUsedBytes),
		"Start_time_sec":              num(uint64(start.Unix())),
		"Tainted":                     str("0"),
	}
	if in.Description != "" {
		v["description"] = str(in.Description)
	}
	return v
}

func cmdShowInfo(s *session, args []string) string {
	var typed, json, desc bool
	for _, a := range args[2:] {
		switch a {
		case "typed":
			typed = true
		case "json":
			json = true
		case "desc":
			desc = true
		}
	}
	vals := s.srv.infoValues()
	var b bytes.Buffer
	if json {
		b.WriteByte('[')
	}
	first := true
	for _, f := range infoMeta {
		v, ok := vals[f.name]
		if !ok || !v.ok {
			continue
		}
		v.typ = f.typ
		switch {
		case json:
			if !first {
				b.WriteByte(',')
			}
			b.WriteString(`{"field":{"pos":`)
			b.WriteString(strconv.Itoa(f.pos))
			b.WriteString(`,"name":"`)
			b.WriteString(f.name)
			b.WriteString(`"},"processNum":1,`)
			writeJSONTagsValue(&b, f.tags, v)
		case typed:
			fmt.Fprintf(&b, "%d.%s.1:%s:%s:%s", f.pos, f.name, f.tags, f.typ, v.String())
			if desc {
				b.WriteString(":\"" + f.desc + "\"")
			}
			b.WriteByte('\n')
		default:
			b.WriteString(f.name)
			b.WriteString(": ")
			b.WriteString(v.String())
			b.WriteByte('\n')
		}
		first = false
	}
	if json {
		b.WriteString("]\n")
	}
	return b.String()
}
