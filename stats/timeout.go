package stats

import (
	"strconv"
	"time"
)

// parseCLITimeout parses the value of "set timeout cli": a number with an
// optional HAProxy time unit (us, ms, s, m, h, d), seconds by default.
func parseCLITimeout(s string) (time.Duration, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 12 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	unit := time.Second
	switch s[i:] {
	case "":
	case "us":
		unit = time.Microsecond
	case "ms":
		unit = time.Millisecond
	case "s":
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	case "d":
		unit = 24 * time.Hour
	default:
		return 0, false
	}
	d := time.Duration(n) * unit
	// HAProxy keeps the value in 32-bit milliseconds.
	if d < time.Second || d/time.Millisecond > 1<<31-1 {
		return 0, false
	}
	return d, true
}

func cmdSetTimeout(s *session, args []string) string {
	if argAt(args, 2) != "cli" {
		return "'set timeout' only supports 'cli'.\n"
	}
	if argAt(args, 3) == "" {
		return "Expects an integer value.\n"
	}
	d, ok := parseCLITimeout(args[3])
	if !ok {
		return "Invalid timeout value.\n"
	}
	s.timeout = d
	return ""
}
