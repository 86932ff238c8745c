package parser

import (
	"fmt"
	"os"
	"strings"
)

// sunPathLen is the size of sockaddr_un's sun_path on Linux.
const sunPathLen = 108

// unixAddr completes a UNIX (path) or abstract (abns@) socket address as
// HAProxy's str2sa_range does: a bind's path gets the unix-bind prefix, and
// a path leaves room for the prefix and the ".<pid>.tmp" and ".<pid>.bak"
// names a bind goes through (so 97 bytes without a prefix); an abstract
// name may fill sun_path but its first byte.
func (c addrCtx) unixAddr(a Addr, family AddrFamily, path, written string) (Addr, string, string) {
	max := sunPathLen - 1
	pfx := ""
	if family == FamilyUnix {
		pfx = c.prefix
		max -= len(pfx) + 1 + 5 + 1 + 3
	}
	if len(path) > max {
		return a, "", fmt.Sprintf("socket path '%s' too long (max %d)", written, max)
	}
	a.Family, a.Path = family, pfx+path
	return a, "", ""
}

// expandEnv is HAProxy's env_expand: every '$' followed by a name of
// letters, digits and '_' (optionally in braces) is replaced by that
// environment variable's value, empty when unset; a '$' without a name
// disappears.
func expandEnv(s string, env func(string) (string, bool)) string {
	if env == nil {
		env = os.LookupEnv
	}
	dollar := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '$' {
			dollar = i
			break
		}
	}
	if dollar < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] != '$' {
			out = append(out, s[i])
			i++
			continue
		}
		beg := i + 1
		braced := beg < len(s) && s[beg] == '{'
		if braced {
			beg++
		}
		end := beg
		for end < len(s) && isEnvNameByte(s[end]) {
			end++
		}
		next := end
		if braced && end < len(s) && s[end] == '}' {
			next++
		}
		if v, ok := env(s[beg:end]); ok && beg < end {
			out = append(out, v...)
		}
		i = next
	}
	return string(out)
}

func isEnvNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// withNewline ends a message of str2sa_range with the newline HAProxy
// gives some of them, which shows as an empty line after a server line's
// alert.
func withNewline(msg string) string {
	for _, p := range []string{"socket path ", "invalid address: ", "invalid character ", "file descriptor ",
		"cannot use file descriptor ", "a file descriptor is not acceptable ", "dgram-type address ", "stream-type address "} {
		if strings.HasPrefix(msg, p) {
			return msg + "\n"
		}
	}
	if strings.Contains(msg, "resolves to an empty address") {
		return msg + "\n"
	}
	return msg
}
