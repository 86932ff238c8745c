// Package cnum parses numbers the way HAProxy's C code does (strtol, atol),
// so that the configuration, the command line, the runtime API and agent
// replies accept and refuse the same texts.
//
// It imports only the standard library.
package cnum

// saturation bounds the magnitude of what Strtol and Atol return: far
// above any setting's range, and low enough that arithmetic on it cannot
// overflow.
const saturation = 1 << 40

// Strtol parses like C's strtol in base 10: optional white space and sign,
// then digits. It returns the value, the rest of the string, and whether
// any digit was read. The magnitude saturates at 2^40.
func Strtol(s string) (int64, string, bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var n int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = min(n*10+int64(s[i]-'0'), saturation)
	}
	if i == start {
		return 0, s, false
	}
	if neg {
		n = -n
	}
	return n, s[i:], true
}

// Atol converts s as C's atol(3), as HAProxy reads most integers of its
// configuration and command line: Strtol's value, whatever follows the
// digits ignored, 0 when there are none.
func Atol(s string) int {
	v, _, _ := Strtol(s)
	return int(v)
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// Maxconn parses a new server maxconn as HAProxy's
// server_parse_maxconn_change_request does ("set maxconn server", agent
// "maxconn:" replies); on error it returns HAProxy's message.
func Maxconn(s string) (int64, string) {
	if s == "" {
		return 0, "Require <maxconn>.\n"
	}
	v, rest, ok := Strtol(s)
	if !ok {
		return 0, "maxconn string empty or preceded by garbage"
	}
	if rest != "" {
		return 0, "Trailing garbage in maxconn string"
	}
	return v, ""
}

// HAProxy's answers to a weight change it refuses (server_parse_weight_change_request).
const (
	WeightRangeMsg  = "Absolute weight can only be between 0 and 256 inclusive.\n"
	StaticWeightMsg = "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
)

// Weight parses a weight change as HAProxy's
// server_parse_weight_change_request ("set weight", agent replies): an
// absolute weight 0..256, or with relative set a percentage of the
// configured weight ("75%", capped at 25600). On error it returns
// HAProxy's message.
func Weight(s string) (w int64, relative bool, msg string) {
	if s == "" {
		return 0, false, "Require <weight> or <weight%>.\n"
	}
	w, rest, ok := Strtol(s)
	switch {
	case !ok:
		return 0, false, "Empty weight string empty or preceded by garbage"
	case rest == "%":
		if w < 0 {
			return 0, false, "Relative weight must be positive.\n"
		}
		return min(w, 25600), true, ""
	case w < 0 || w > 256:
		return 0, false, WeightRangeMsg
	case rest != "":
		return 0, false, "Trailing garbage in weight string"
	}
	return w, false, ""
}
