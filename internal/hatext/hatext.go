// Package hatext holds the small conventions HAProxy applies to the words
// it reads and writes, for the packages that reproduce them:
//
//   - At: a word of a configuration or CLI line that may be missing
//     (parser, stats);
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

// Atoi converts like C's atoi: optional blanks and sign, then digits; any
// other input gives 0.
func Atoi(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<31 {
			n = n*10 + int(s[i]-'0')
		}
	}
	if neg {
		return -n
	}
	return n
}
