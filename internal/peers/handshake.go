package peers

import (
	"fmt"
	"strconv"
	"strings"
)

// ProtoName and the version HAProxy 2.6 announces.
const (
	ProtoName    = "HAProxyS"
	MajorVersion = 2
	MinorVersion = 1
)

// Status codes of the handshake, as "show peers" names them too.
const (
	StatusConnect   = 100 // connect in progress
	StatusConnected = 110 // TCP connection established
	StatusSuccess   = 200
	StatusTryAgain  = 300
	StatusErrProto  = 501
	StatusErrVers   = 502
	StatusErrHost   = 503
	StatusErrPeer   = 504
)

// StatusName is the name "show peers" gives a status code.
func StatusName(code int) string {
	switch code {
	case StatusConnect:
		return "CONN"
	case StatusConnected:
		return "HSHK"
	case StatusSuccess:
		return "ESTA"
	case StatusTryAgain:
		return "RETR"
	case StatusErrProto:
		return "PROT"
	case StatusErrVers:
		return "VERS"
	case StatusErrHost:
		return "NAME"
	case StatusErrPeer:
		return "UNKN"
	}
	return "NONE"
}

// AppendHello appends the three lines a connecting peer sends: the
// protocol and version, the name of the peer it calls, its own name with
// its pid and relative pid.
func AppendHello(b []byte, remote, local string, pid int) []byte {
	return fmt.Appendf(b, "%s %d.%d\n%s\n%s %d %d\n", ProtoName, MajorVersion, MinorVersion, remote, local, pid, 1)
}

// AppendStatus appends a status line.
func AppendStatus(b []byte, code int) []byte { return fmt.Appendf(b, "%d\n", code) }

// CheckVersion checks the first hello line; it returns the status code
// to answer when it is not acceptable (0 when it is) and the minor
// version.
func CheckVersion(line string) (status, minor int) {
	v, ok := strings.CutPrefix(line, ProtoName+" ")
	if !ok {
		return StatusErrProto, 0
	}
	maj, min, ok := strings.Cut(v, ".")
	ma, err1 := strconv.ParseUint(maj, 10, 32)
	mi, err2 := strconv.ParseUint(min, 10, 32)
	if !ok || err1 != nil || err2 != nil || ma != MajorVersion || mi > MinorVersion {
		return StatusErrVers, 0
	}
	return 0, int(mi)
}

// ParsePeerLine reads the last hello line, "<name> <pid> <relative pid>":
// the caller's name.
func ParsePeerLine(line string) (string, bool) {
	name, _, ok := strings.Cut(line, " ")
	return name, ok
}

// TrimLine removes the end of a line: "\n", or "\r\n".
func TrimLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
