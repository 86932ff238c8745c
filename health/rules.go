package health

import (
	"fmt"
	"regexp"
	"strings"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// ruleAction is what a compiled tcp-check rule does.
type ruleAction int

const (
	actConnect ruleAction = iota
	actSend
	actExpect
)

// expectKind is the matching method of an expect rule.
type expectKind int

const (
	expString expectKind = iota
	expRString
	expBinary
	expRBinary
	expCustom
)

// rulesetProto says which HAProxy ruleset family a rule set belongs to; it
// decides how much is said in last_chk.
type rulesetProto int

const (
	protoNone  rulesetProto = iota // plain "check": connect only, no step text
	protoTCP                       // option tcp-check: step texts
	protoRedis                     // the protocol checks: their own texts
	protoMySQL
	protoPgSQL
	protoSMTP
	protoLDAP
	protoSSL3
	protoAgent
	protoHTTP // option httpchk
)

// evalRet is the outcome of evaluating a rule, as HAProxy's
// tcpcheck_eval_ret.
type evalRet int

const (
	evalContinue evalRet = iota
	evalWait
	evalStop
)

// customExpect is a protocol-specific expect (mysql, ldap, agent). It may
// finish the check by calling run.finish.
type customExpect func(r *run, rl *rule, lastRead bool) evalRet

// rule is one compiled tcp-check rule. Rule sets are immutable once built
// and shared by every server of a backend.
type rule struct {
	action  ruleAction
	index   int // HAProxy's rule index: step numbers are index+1
	comment string

	// connect
	port           int
	addr           string
	sendProxy      bool
	defaultConnect bool // use the server's check settings (check-ssl, check-send-proxy, check-sni, check-alpn)
	implicit       bool
	linger         bool
	ssl            bool   // connect ssl
	sni, alpn      string // connect sni/alpn

	// send
	data   []byte
	dataFn func(r *run) []byte // computed payloads (send-lf of protocol checks)

	// expect
	kind        expectKind
	inverse     bool
	pattern     []byte // string, or decoded binary
	patternText string // as written
	re          *regexp.Regexp
	minRecv     int // -1 = unset
	okStatus    srvstate.CheckStatus
	errStatus   srvstate.CheckStatus
	toutStatus  srvstate.CheckStatus
	onSuccess   string
	onError     string
	onSuccessFn func(buf []byte) string
	onErrorFn   func(buf []byte) string
	statusCode  func(buf []byte) (int, bool)
	custom      customExpect
	http        *httpExpect // http-check expect
	head        int         // position in the rule slice of the first expect of this series
}

// ruleset is a compiled list of rules plus its family.
type ruleset struct {
	proto rulesetProto
	rules []*rule
}

// finalize inserts the implicit connect (HAProxy's check_proxy_tcpcheck)
// and links each expect to the head of its series.
func (rs *ruleset) finalize() {
	if len(rs.rules) == 0 || rs.rules[0].action != actConnect {
		c := &rule{action: actConnect, index: 0, defaultConnect: true, implicit: true, minRecv: -1}
		rs.rules = append([]*rule{c}, rs.rules...)
	}
	head := -1
	for i, r := range rs.rules {
		if r.action != actExpect {
			head = -1
			continue
		}
		if head < 0 {
			head = i
		}
		r.head = head
	}
}

// compileTCPChecks builds the ruleset of "option tcp-check" from the
// backend's tcp-check lines. Comment lines take a rule index as in HAProxy
// and label the rules that follow them.
func compileTCPChecks(lines []*parser.TCPCheckRule) (*ruleset, error) {
	rs := &ruleset{proto: protoTCP}
	pendingComment := ""
	prevAction := "comment"
	for i, l := range lines {
		kind := l.Kind
		family := kind
		if strings.HasPrefix(kind, "send") {
			family = "send"
		}
		if family != prevAction && prevAction != "comment" {
			pendingComment = ""
		}
		prevAction = family
		r := &rule{index: i, comment: l.Comment, minRecv: -1}
		switch family {
		case "comment":
			pendingComment = l.Comment
			continue
		case "connect":
			r.action = actConnect
			r.port = l.Port
			r.addr = l.Addr
			r.sendProxy = l.SendProxy
			r.defaultConnect, r.ssl, r.sni, r.alpn, r.linger = l.Default, l.SSL, l.SNI, l.ALPN, l.Linger
			if r.comment == "" {
				r.comment = pendingComment
			}
			pendingComment = ""
		case "send":
			r.action = actSend
			switch kind {
			case "send", "send-binary":
				r.data = l.Data
			case "send-lf":
				r.data = []byte(strings.ReplaceAll(string(l.Data), "%%", "%"))
			default:
				return nil, fmt.Errorf("tcp-check %s is not supported", kind)
			}
			if r.comment == "" {
				r.comment = pendingComment
			}
		case "expect":
			r.action = actExpect
			r.inverse = l.Negate
			r.patternText = l.Pattern
			r.minRecv = l.MinRecv // the parser's default is -1 (unset)
			r.onSuccess = l.OnSuccess
			r.onError = l.OnError
			switch l.Match {
			case "string":
				r.kind = expString
				r.pattern = []byte(l.Pattern)
			case "binary":
				r.kind = expBinary
				r.pattern = l.Data // decoded by the parser
			case "rstring", "rbinary":
				r.kind = expRString
				if l.Match == "rbinary" {
					r.kind = expRBinary
				}
				if l.Regex == nil {
					return nil, fmt.Errorf("tcp-check expect %s: pattern not compiled by the parser", l.Match)
				}
				r.re = l.Regex
			default:
				return nil, fmt.Errorf("tcp-check expect %q is not supported", l.Match)
			}
			if r.comment == "" {
				r.comment = pendingComment
			}
		default:
			return nil, fmt.Errorf("tcp-check %s is not supported", kind)
		}
		rs.rules = append(rs.rules, r)
	}
	rs.finalize()
	return rs, nil
}
