package parser

import (
	"fmt"
	"time"
)

// maxTimerMS is the largest timer HAProxy accepts (2^31-1 ms).
const maxTimerMS = 2147483647

// timeError is a failure of ParseTime, with HAProxy's wording pieces.
type timeError struct {
	kind string // "char", "overflow", "underflow", "empty"
	char byte
}

func (e *timeError) Error() string {
	switch e.kind {
	case "char":
		return fmt.Sprintf("unexpected character '%c'", e.char)
	case "overflow":
		return "timer overflow"
	case "underflow":
		return "timer underflow"
	}
	return "empty value"
}

// ParseTime parses an HAProxy time value ("DIGITS[unit]", unit one of us ms
// s m h d, milliseconds by default) into a duration rounded up to the
// millisecond, as parse_time_err() does. trailing is the text after a valid
// unit (HAProxy only warns about it).
func ParseTime(s string) (d time.Duration, trailing string, err error) {
	return parseTimeUnit(s, time.Millisecond)
}

// parseTimeUnit parses a time whose bare numbers are in unit.
func parseTimeUnit(s string, unit time.Duration) (time.Duration, string, error) {
	if s == "" {
		return 0, "", &timeError{kind: "empty"}
	}
	i := 0
	var v uint64
	for i < len(s) && isDigit(s[i]) {
		v = v*10 + uint64(s[i]-'0')
		if v > 1<<40 {
			return 0, "", &timeError{kind: "overflow"}
		}
		i++
	}
	if i == 0 {
		return 0, "", &timeError{kind: "char", char: s[0]}
	}
	rest := s[i:]
	mult := unit
	switch {
	case len(rest) >= 2 && rest[:2] == "us":
		mult, rest = time.Microsecond, rest[2:]
	case len(rest) >= 2 && rest[:2] == "ms":
		mult, rest = time.Millisecond, rest[2:]
	case len(rest) >= 1 && rest[0] == 's':
		mult, rest = time.Second, rest[1:]
	case len(rest) >= 1 && rest[0] == 'm':
		mult, rest = time.Minute, rest[1:]
	case len(rest) >= 1 && rest[0] == 'h':
		mult, rest = time.Hour, rest[1:]
	case len(rest) >= 1 && rest[0] == 'd':
		mult, rest = 24*time.Hour, rest[1:]
	case len(rest) > 0:
		return 0, "", &timeError{kind: "char", char: rest[0]}
	}
	d := time.Duration(v) * mult
	ms := (int64(d) + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	if ms > maxTimerMS {
		return 0, "", &timeError{kind: "overflow"}
	}
	if v != 0 && ms == 0 {
		return 0, "", &timeError{kind: "underflow"}
	}
	return time.Duration(ms) * time.Millisecond, rest, nil
}

// strictInt parses a whole-word decimal integer.
func strictInt(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i = 1
	}
	if i == len(s) {
		return 0, false
	}
	for _, c := range []byte(s[i:]) {
		if !isDigit(c) {
			return 0, false
		}
	}
	v := atol(s)
	return v, true
}
