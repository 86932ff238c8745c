package health

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"strconv"
	"time"

	"goproxy/internal/srvstate"
)

// The protocol checks are HAProxy 2.6's built-in rule sets (src/tcpcheck.c
// proxy_parse_*_check_opt), with the same steps, statuses and texts.

// cutCRLF is HAProxy's cut_crlf converter.
func cutCRLF(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// payloadFrom is res.payload(off,0).
func payloadFrom(b []byte, off int) []byte {
	if off >= len(b) {
		return nil
	}
	return b[off:]
}

func redisRules() *ruleset {
	rs := &ruleset{proto: protoRedis, rules: []*rule{
		{action: actSend, index: 0, minRecv: -1, data: []byte("*1\r\n$4\r\nPING\r\n")},
		{action: actExpect, index: 1, minRecv: -1, kind: expString, pattern: []byte("+PONG\r\n"),
			errStatus: srvstate.CheckL7Sts, onErrorFn: cutCRLF, onSuccess: "Redis server is ok"},
	}}
	rs.finalize()
	return rs
}

// sslHello builds the SSLv3 CLIENT HELLO of ssl-hello-chk.
func sslHello(now time.Time) []byte {
	b := []byte{0x16, 0x03, 0x00, 0x00, 0x79, 0x01, 0x00, 0x00, 0x75, 0x03, 0x00}
	b = binary.BigEndian.AppendUint32(b, uint32(now.Unix()))
	b = append(b, "HAPROXYSSLCHK\nHAPROXYSSLCHK\n"...)
	b = append(b, 0x00, 0x00, 0x4e)
	for c := 0x01; c <= 0x1b; c++ {
		b = append(b, 0x00, byte(c))
	}
	for c := 0x2f; c <= 0x3a; c++ {
		b = append(b, 0x00, byte(c))
	}
	return append(b, 0x01, 0x00)
}

func sslHelloRules() *ruleset {
	rs := &ruleset{proto: protoSSL3, rules: []*rule{
		{action: actSend, index: 0, minRecv: -1, dataFn: func(*run) []byte { return sslHello(time.Now()) }},
		{action: actExpect, index: 1, kind: expRBinary, re: regexp.MustCompile("^1[56]"), minRecv: 5,
			okStatus: srvstate.CheckL6OK, errStatus: srvstate.CheckL6Rsp, toutStatus: srvstate.CheckL6TOut},
	}}
	rs.finalize()
	return rs
}

func smtpReplyText(b []byte) string {
	p := payloadFrom(b, 4)
	return cutCRLF(bytes.TrimLeft(p, " "))
}

func smtpCode(b []byte) (int, bool) {
	if len(b) < 3 {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[:3]))
	return n, err == nil
}

// smtpRules is the smtpchk rule set of HAProxy 2.6 stable (with the
// EHLO multi-line reply match and the final QUIT of its later 2.6 releases).
func smtpRules() *ruleset {
	rs := &ruleset{proto: protoSMTP, rules: []*rule{
		{action: actConnect, index: 0, defaultConnect: true, linger: true, minRecv: -1},
		{action: actExpect, index: 1, kind: expRString, re: regexp.MustCompile("^[0-9]{3}[ \r]"), minRecv: 4,
			errStatus: srvstate.CheckL7Rsp, onErrorFn: cutCRLF},
		{action: actExpect, index: 2, kind: expRString, re: regexp.MustCompile("^2[0-9]{2}[ \r]"), minRecv: 4,
			errStatus: srvstate.CheckL7Sts, onErrorFn: smtpReplyText, statusCode: smtpCode},
		{action: actSend, index: 3, minRecv: -1, dataFn: func(r *run) []byte { return []byte(r.spec.smtpCmd + "\r\n") }},
		{action: actExpect, index: 4, kind: expRString, re: regexp.MustCompile("^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]"), minRecv: -1,
			errStatus: srvstate.CheckL7Sts, onErrorFn: smtpReplyText, onSuccessFn: smtpReplyText, statusCode: smtpCode},
		{action: actSend, index: 5, minRecv: -1, data: []byte("QUIT\r\n")},
		{action: actExpect, index: 6, kind: expRString, re: regexp.MustCompile("^2[0-9]{2}[- \r]"), minRecv: 4,
			errStatus: srvstate.CheckL7Sts, onErrorFn: smtpReplyText, onSuccessFn: smtpReplyText, statusCode: smtpCode},
	}}
	rs.finalize()
	return rs
}

func pgsqlStartup(user string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(15+len(user)))
	b = append(b, 0x00, 0x03, 0x00, 0x00)
	b = append(b, "user\x00"...)
	b = append(b, user...)
	return append(b, 0x00, 0x00)
}

func pgsqlRules() *ruleset {
	rs := &ruleset{proto: protoPgSQL, rules: []*rule{
		{action: actConnect, index: 0, defaultConnect: true, linger: true, minRecv: -1},
		{action: actSend, index: 1, minRecv: -1, dataFn: func(r *run) []byte { return pgsqlStartup(r.spec.pgUser) }},
		{action: actExpect, index: 2, kind: expRString, inverse: true, re: regexp.MustCompile("^E"), minRecv: 5,
			errStatus: srvstate.CheckL7Rsp, onErrorFn: func(b []byte) string { return string(payloadFrom(b, 6)) }},
		{action: actExpect, index: 3, kind: expRBinary, re: regexp.MustCompile("^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)"),
			minRecv: 9, errStatus: srvstate.CheckL7Sts, onSuccess: "PostgreSQL server is ok", onError: "PostgreSQL unknown error"},
	}}
	rs.finalize()
	return rs
}

// mysqlAuth builds the client authentication packet of mysql-check with a
// user (post-4.1 unless pre41), followed by COM_QUIT.
func mysqlAuth(user string, pre41 bool) []byte {
	var body []byte
	if pre41 {
		body = append(body, 0x00, 0x80, 0x00, 0x00, 0x01)
	} else {
		body = append(body, 0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21)
		body = append(body, make([]byte, 23)...)
	}
	body = append(body, user...)
	body = append(body, 0x00, 0x00)
	plen := len(user) + 7
	if !pre41 {
		plen += 27
	}
	hdr := []byte{byte(plen), byte(plen >> 8), byte(plen >> 16), 0x01}
	out := append(hdr, body...)
	return append(out, 0x01, 0x00, 0x00, 0x00, 0x01)
}

// expectMySQLPacket is tcpcheck_mysql_expect_packet: a packet at offset,
// an error packet fails with its code and text, the last rule passes with
// the server version as text.
func expectMySQLPacket(r *run, rl *rule, offset int, lastRead bool) evalRet {
	b := r.buf
	fail := func(st srvstate.CheckStatus, info string) evalRet {
		r.finish(st, r.onErrorMessage(rl, false, info))
		return evalStop
	}
	if len(b) < offset+4 {
		if !lastRead {
			return evalWait
		}
		return fail(srvstate.CheckL7Rsp, "")
	}
	plen := int(b[offset]) | int(b[offset+1])<<8 | int(b[offset+2])<<16
	if len(b) < offset+plen+4 {
		if !lastRead {
			return evalWait
		}
		return fail(srvstate.CheckL7Rsp, "")
	}
	if b[offset+4] == 0xff {
		if len(b) >= offset+7 {
			r.code = int(b[offset+5]) | int(b[offset+6])<<8
			return fail(srvstate.CheckL7Sts, cString(b[offset+7:]))
		}
		return fail(srvstate.CheckL7Sts, "")
	}
	if rl != r.spec.rs.rules[len(r.spec.rs.rules)-1] {
		return evalContinue
	}
	st := rl.okStatus
	if st == 0 {
		st = srvstate.CheckL7OK
	}
	desc := ""
	if len(b) > 5 {
		desc = cString(b[5:])
	}
	r.finish(st, desc)
	return evalContinue
}

func mysqlRules(withUser bool) *ruleset {
	rs := &ruleset{proto: protoMySQL}
	idx := 0
	add := func(rl *rule) {
		rl.index = idx
		idx++
		rs.rules = append(rs.rules, rl)
	}
	add(&rule{action: actConnect, defaultConnect: true, linger: true, minRecv: -1})
	if withUser {
		add(&rule{action: actSend, minRecv: -1, dataFn: func(r *run) []byte { return mysqlAuth(r.spec.mysqlUser, r.spec.mysqlPre41) }})
	}
	add(&rule{action: actExpect, minRecv: -1, kind: expCustom, custom: func(r *run, rl *rule, last bool) evalRet {
		return expectMySQLPacket(r, rl, 0, last)
	}})
	if withUser {
		add(&rule{action: actExpect, minRecv: -1, kind: expCustom, custom: func(r *run, rl *rule, last bool) evalRet {
			b := r.buf
			hslen := 4
			if len(b) >= 3 {
				hslen += int(b[0]) | int(b[1])<<8 | int(b[2])<<16
			}
			return expectMySQLPacket(r, rl, hslen, last)
		}})
	}
	rs.finalize()
	return rs
}

// expectLDAPBind is tcpcheck_ldap_expect_bindrsp.
func expectLDAPBind(r *run, rl *rule, lastRead bool) evalRet {
	b := r.buf
	fail := func(st srvstate.CheckStatus, info string) evalRet {
		r.finish(st, r.onErrorMessage(rl, false, info))
		return evalStop
	}
	short := func() evalRet {
		if !lastRead {
			return evalWait
		}
		return fail(srvstate.CheckL7Rsp, "")
	}
	const notLDAP = "Not LDAPv3 protocol"
	if len(b) < 2 {
		return short()
	}
	p := 1
	nbytes := 0
	msglen := 0
	if b[p]&0x80 != 0 {
		nbytes = int(b[p] & 0x7f)
		if len(b) < 1+nbytes {
			return short()
		}
		switch nbytes {
		case 4:
			if len(b) < p+5 {
				return short()
			}
			msglen = int(binary.BigEndian.Uint32(b[p+1:]))
		case 2:
			if len(b) < p+3 {
				return short()
			}
			msglen = int(binary.BigEndian.Uint16(b[p+1:]))
		default:
			return fail(srvstate.CheckL7Rsp, notLDAP)
		}
	} else {
		msglen = int(b[p])
	}
	p += 1 + nbytes
	if len(b) < 2+nbytes+msglen {
		return short()
	}
	if len(b) < p+4 || !bytes.Equal(b[p:p+4], []byte{0x02, 0x01, 0x01, 0x61}) {
		return fail(srvstate.CheckL7Rsp, notLDAP)
	}
	p += 4
	nbytes = 0
	if p < len(b) && b[p]&0x80 != 0 {
		nbytes = int(b[p] & 0x7f)
	}
	p += 1 + nbytes
	if len(b) < p+3 || b[p] != 0x0a || b[p+1] != 0x01 {
		return fail(srvstate.CheckL7Rsp, notLDAP)
	}
	p += 2
	r.code = int(b[p])
	if r.code != 0 {
		return fail(srvstate.CheckL7Sts, "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9")
	}
	st := rl.okStatus
	if st == 0 {
		st = srvstate.CheckL7OK
	}
	r.finish(st, "Success")
	return evalContinue
}

func ldapRules() *ruleset {
	req, _ := hex.DecodeString("300C020101600702010304008000")
	rs := &ruleset{proto: protoLDAP, rules: []*rule{
		{action: actSend, index: 0, minRecv: -1, data: req},
		{action: actExpect, index: 1, kind: expRBinary, re: regexp.MustCompile("^30"), minRecv: 14,
			onError: "Not LDAPv3 protocol"},
		{action: actExpect, index: 2, minRecv: -1, kind: expCustom, custom: expectLDAPBind},
	}}
	rs.finalize()
	return rs
}
