package proxy

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"goproxy/parser"
)

// LogFields is what a log format prints beyond a SessionRecord.
type LogFields struct {
	SrvAddr netip.AddrPort // %si:%sp, the server connected to (invalid: none)
	BackSrc netip.AddrPort // %bi:%bp, the local end of that connection
	// SrvUnix: that connection is a UNIX one, whose ends HAProxy logs as
	// "unix" with port 0.
	SrvUnix   bool
	FrontName string // %f and %ft
	LogCount  uint64 // %lc: lines the frontend logged before this one
	PID       int
	ASAP      bool // option logasap: '+' before %Tt, %Tu, %Ta and %B
	// TLS is the handshake of a terminated session (nil: plain): %ft
	// gets HAProxy's '~', %sslc and %sslv their values.
	TLS *TLSInfo
	SSL bool // the session came through an ssl bind
	// ID is the session's unique id (%ID), nil when it has none.
	ID []byte
	// exprs holds the compiled sample expressions of the format's %[...]
	// nodes, evaluated on ci (nil: the record's addresses only).
	exprs map[*parser.LogNode]*sampleExpr
	ci    *connInfo
	// caps are the session's captures, of the frontend's nCaps slots.
	caps  [][]byte
	nCaps int
}

// hostname is the system's host name, read once: %H, log-send-hostname's
// default and the node of send-state.
var hostname = sync.OnceValue(func() string {
	h, _ := os.Hostname()
	return h
})

// logsAddrs reports whether a frontend's log formats or unique-id-format
// print the server's address or the local end of the server connection,
// which its sessions then record at connect time (a system call).
func logsAddrs(p *parser.Proxy) bool {
	for _, lf := range []*parser.LogFormat{p.LogFormat, p.LogFormatSD, p.UniqueIDFormat} {
		if lf == nil {
			continue
		}
		for _, n := range lf.Nodes {
			if n.Kind == parser.LogVar {
				switch n.Text {
				case "si", "sp", "bi", "bp":
					return true
				}
			}
		}
	}
	return false
}

// AppendLogFormat appends the line a compiled log format gives for a
// session, as HAProxy 2.6's sess_build_logline() writes it in TCP mode.
func AppendLogFormat(b []byte, nodes []parser.LogNode, r *SessionRecord, x *LogFields) []byte {
	lastSpace := true
	for i := range nodes {
		n := &nodes[i]
		fl := n.Flags
		switch n.Kind {
		case parser.LogSep:
			if !lastSpace {
				b = append(b, ' ')
				lastSpace = true
			}
			continue
		case parser.LogText:
			b = append(b, n.Text...)
			lastSpace = false
			continue
		case parser.LogFetch:
			b = appendLogSample(b, n, r, x)
			lastSpace = false
			continue
		}
		switch n.Text {
		case "ci", "fi":
			switch {
			case r.Unix:
				b = lfText(b, "unix", fl)
			case n.Text == "ci":
				b = lfIP(b, r.Client, fl)
			default:
				b = lfIP(b, r.Local, fl)
			}
		case "cp", "fp":
			switch {
			case r.Unix:
				b = strconv.AppendInt(b, int64(r.ListenerID), 10)
			case n.Text == "cp":
				b = lfPort(b, r.Client, fl)
			default:
				b = lfPort(b, r.Local, fl)
			}
		case "bi", "si":
			switch {
			case x.SrvUnix:
				b = lfText(b, "unix", fl)
			case n.Text == "bi":
				b = lfIP(b, x.BackSrc, fl)
			default:
				b = lfIP(b, x.SrvAddr, fl)
			}
		case "bp", "sp":
			switch {
			case x.SrvUnix:
				b = append(b, '0')
			case n.Text == "bp":
				b = lfPort(b, x.BackSrc, fl)
			default:
				b = lfPort(b, x.SrvAddr, fl)
			}
		case "t":
			b = r.Accept.AppendFormat(b, "02/Jan/2006:15:04:05.000")
		case "T":
			b = r.Accept.UTC().AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
		case "Tl":
			b = r.Accept.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
		case "Ts":
			b = lfHexOr(b, r.Accept.Unix(), fl, 4)
		case "ms":
			ms := int64(r.Accept.Nanosecond() / int(time.Millisecond))
			if fl&parser.LogHex != 0 {
				b = lfHex(b, ms, 2)
			} else {
				b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
			}
		case "f":
			b = lfText(b, x.FrontName, fl)
		case "ft":
			if fl&parser.LogQuote != 0 {
				b = append(b, '"')
			}
			b = append(b, x.FrontName...)
			if x.SSL {
				b = append(b, '~')
			}
			if fl&parser.LogQuote != 0 {
				b = append(b, '"')
			}
		case "b":
			name := x.FrontName
			if r.Backend != nil {
				name = r.Backend.Name
			}
			b = lfText(b, name, fl)
		case "s":
			name := "<NOSRV>"
			if r.Server != nil {
				name = r.Server.Name
			}
			b = lfText(b, name, fl)
		case "sslc", "sslv":
			v := ""
			if x.TLS != nil && n.Text == "sslc" {
				v = CipherName(x.TLS.Cipher)
			} else if x.TLS != nil {
				v = TLSVersionName(x.TLS.Version)
			}
			b = lfText(b, v, fl)
		case "H":
			b = lfText(b, hostname(), fl)
		case "ID":
			b = lfText(b, string(x.ID), fl)
		case "Th":
			b = append(b, '0')
		case "Tw":
			b = strconv.AppendInt(b, r.Tw, 10)
		case "Tc":
			b = strconv.AppendInt(b, r.Tc, 10)
		case "Tt", "Tu":
			b = lfPlus(b, x.ASAP)
			b = strconv.AppendInt(b, r.Tt, 10)
		case "Td":
			td := int64(-1)
			if r.Tc >= 0 {
				td = r.Tt - max(r.Tw, 0) - r.Tc
			}
			b = strconv.AppendInt(b, td, 10)
		case "ST":
			b = append(b, '0')
		case "B":
			b = lfPlus(b, x.ASAP)
			b = strconv.AppendInt(b, r.BytesOut, 10)
		case "U":
			b = strconv.AppendInt(b, r.BytesIn, 10)
		case "ts", "tsc":
			term := r.Term
			if len(term) != 2 {
				term = "--"
			}
			b = append(b, term...)
			if n.Text == "tsc" {
				b = append(b, '-', '-')
			}
		case "ac":
			b = strconv.AppendInt(b, r.ActConn, 10)
		case "fc":
			b = strconv.AppendInt(b, r.FeConn, 10)
		case "bc":
			b = strconv.AppendInt(b, r.BeConn, 10)
		case "sc":
			b = strconv.AppendInt(b, r.SrvConn, 10)
		case "rc":
			if r.Redispatched {
				b = append(b, '+')
			}
			b = strconv.AppendInt(b, int64(r.Retries), 10)
		case "sq":
			b = strconv.AppendInt(b, r.SrvQueue, 10)
		case "bq":
			b = strconv.AppendInt(b, r.BeQueue, 10)
		case "rt":
			b = lfHexOr(b, int64(r.ID)-1, fl, 4)
		case "lc":
			b = lfHexOr(b, int64(x.LogCount), fl, 4)
		case "pid":
			b = lfHexOr(b, int64(x.PID), fl, 4)
		case "hr", "hrl":
			// The tcp-request content captures; nothing, not even a
			// separator, without any.
			if x.nCaps == 0 {
				continue
			}
			b = appendCaptures(b, x.caps, x.nCaps, n.Text == "hrl")
		case "hs", "hsl":
			// No response captures in TCP mode.
			continue
		}
		lastSpace = false
	}
	return b
}

func lfPlus(b []byte, asap bool) []byte {
	if asap {
		return append(b, '+')
	}
	return b
}

// lfText is HAProxy's lf_text_len(): an optionally quoted and escaped
// string, "-" when empty (unless quoted or not mandatory).
func lfText(b []byte, s string, fl parser.LogFlags) []byte {
	q := fl&parser.LogQuote != 0
	if q {
		b = append(b, '"')
	}
	switch {
	case s != "" && fl&parser.LogEsc != 0:
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '"' || c == '\\' || c == ']' {
				b = append(b, '\\')
			}
			b = append(b, s[i])
		}
	case s != "":
		b = append(b, s...)
	case !q && fl&parser.LogMandatory != 0:
		b = append(b, '-')
	}
	if q {
		b = append(b, '"')
	}
	return b
}

const hexDigits = "0123456789ABCDEF"

// lfHex appends v as "%0<width>X".
func lfHex(b []byte, v int64, width int) []byte {
	var tmp [16]byte
	i := len(tmp)
	u := uint64(v)
	for u > 0 || len(tmp)-i < width {
		i--
		tmp[i] = hexDigits[u&15]
		u >>= 4
		if i == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

func lfHexOr(b []byte, v int64, fl parser.LogFlags, width int) []byte {
	if fl&parser.LogHex != 0 {
		return lfHex(b, int64(uint32(v)), width)
	}
	return strconv.AppendInt(b, v, 10)
}

// lfIP is HAProxy's lf_ip(): the address as text, or its bytes in
// hexadecimal with X (never quoted then).
func lfIP(b []byte, a netip.AddrPort, fl parser.LogFlags) []byte {
	if !a.IsValid() {
		return lfText(b, "", fl)
	}
	if fl&parser.LogHex != 0 {
		ip := a.Addr().Unmap()
		for _, c := range ip.AsSlice() {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		return b
	}
	return lfText(b, a.Addr().Unmap().String(), fl)
}

// lfPort is HAProxy's lf_port(): decimal, or "%04X" with X.
func lfPort(b []byte, a netip.AddrPort, fl parser.LogFlags) []byte {
	if !a.IsValid() {
		return lfText(b, "", fl)
	}
	if fl&parser.LogHex != 0 {
		return lfHex(b, int64(a.Port()), 4)
	}
	return strconv.AppendInt(b, int64(a.Port()), 10)
}

// appendLogSample prints a %[fetch,converters] node. A unique-id-format's
// sample is written as HAProxy writes the samples of HTTP log formats.
func appendLogSample(b []byte, n *parser.LogNode, r *SessionRecord, x *LogFields) []byte {
	if len(n.Conv) == 0 && n.Flags&parser.LogHTTPEnc == 0 && strings.HasPrefix(n.Text, "ssl_") &&
		!strings.HasPrefix(n.Text, "ssl_fc_err") {
		// The TLS fetches of a handshake done, as text (tls_fetch.go);
		// the error ones read a failed handshake too (fetch_connerr.go).
		v, ok := TLSText(n.Text, x.TLS)
		if !ok {
			v = "-"
		}
		return lfText(b, v, n.Flags)
	}
	e := x.exprs[n]
	if e == nil {
		var err error
		if e, err = compileSampleExpr(n.Text, n.Args, n.Conv, nil); err != nil {
			return lfText(b, "", n.Flags)
		}
	}
	ci := x.ci
	if ci == nil {
		ci = &connInfo{src: r.Client, dst: r.Local, final: true}
	}
	var txt [64]byte
	var v []byte
	if smp, ok := e.eval(ci); ok {
		v = appendSampleText(txt[:0], &smp)
	}
	if n.Flags&parser.LogHTTPEnc != 0 {
		return lfEncode(b, v, n.Flags)
	}
	return lfText(b, string(v), n.Flags)
}

// lfEncode is HAProxy's lf_encode_chunk() with its http_encode_map: the
// control characters other than HTAB, and DEL, as %XX; with E, '"', '\'
// and ']' escaped with '\'. Neither quoted nor "-" when empty.
func lfEncode(b, v []byte, fl parser.LogFlags) []byte {
	for _, c := range v {
		switch {
		case c <= 0x08 || (c >= 0x0a && c <= 0x1f) || c == 0x7f:
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		case fl&parser.LogEsc != 0 && (c == '"' || c == '\\' || c == ']'):
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return b
}

// compileLogExprs compiles the sample expressions of a frontend's log
// formats, error-log-format and unique-id-format.
func compileLogExprs(p *parser.Proxy, maps *compileEnv) (map[*parser.LogNode]*sampleExpr, error) {
	var out map[*parser.LogNode]*sampleExpr
	for _, lf := range []*parser.LogFormat{p.LogFormat, p.LogFormatSD, p.UniqueIDFormat, p.ErrorLogFormat} {
		if lf == nil {
			continue
		}
		for i := range lf.Nodes {
			n := &lf.Nodes[i]
			if n.Kind != parser.LogFetch {
				continue
			}
			e, err := compileSampleExpr(n.Text, n.Args, n.Conv, maps)
			if err != nil {
				return nil, fmt.Errorf("parsing [%s:%d] : %w", lf.Pos.File, lf.Pos.Line, err)
			}
			if out == nil {
				out = map[*parser.LogNode]*sampleExpr{}
			}
			out[n] = e
		}
	}
	return out, nil
}
