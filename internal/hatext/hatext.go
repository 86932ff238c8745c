// Package hatext holds the small conventions HAProxy applies to the words
// it reads and writes, for the packages that reproduce them:
//
//   - At: a word of a configuration or CLI line that may be missing
//     (parser, stats);
//   - Atol: a number read as C's atol(3) does, leniently and never an
//     error, as HAProxy reads most integers (parser, cmd/goproxy's -n, -N);
//   - Strerror and Errno: a system error as strerror(3) spells it, the text
//     HAProxy puts in its messages (parser, proxy, health, cmd/goproxy).
//
// It is a leaf: it imports only the standard library, so that parser, which
// imports nothing else of goproxy's, may use it.
package hatext

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
)

// At returns words[i], or "" when the line has fewer words.
func At(words []string, i int) string {
	if i >= 0 && i < len(words) {
		return words[i]
	}
	return ""
}

// atolMax bounds Atol's result: beyond it every number is as absurd as a
// maxconn or a timeout, and the arithmetic done on it cannot overflow.
const atolMax = 1 << 40

// Atol converts s as C's atol(3): leading white space, an optional sign,
// then digits up to the first other character; no digits gives 0. The
// magnitude is capped at 2^40.
func Atol(s string) int {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var v int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		v = v*10 + int64(s[i]-'0')
		if v > atolMax {
			v = atolMax
		}
	}
	if neg {
		v = -v
	}
	return int(v)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n'
}

// Errno returns the text of the system error err wraps, as strerror(3)
// spells it ("Connection refused"), or "" when it wraps none.
func Errno(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) || errno == 0 {
		return ""
	}
	return capitalize(errno.Error())
}

// Strerror renders err as HAProxy prints a system error: the errno's text
// when err wraps one, else err's own text without Go's operation and path
// (fs.PathError).
func Strerror(err error) string {
	if s := Errno(err); s != "" {
		return s
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error()
}

// capitalize upper-cases the first letter, as strerror's texts begin.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
