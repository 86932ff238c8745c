// Package crypt verifies passwords against crypt(3) hashes, as a userlist's
// "password" does: MD5 ($1$), SHA-256 ($5$) and SHA-512 ($6$) crypt, in
// pure Go.
//
//	ok := crypt.Verify("pw", "$6$xx$jvXi...")
//
// It imports only the standard library.
package crypt

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
	"strconv"
	"strings"
)

const alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Verify reports whether password matches the crypt(3) hash. A hash in a
// format this package does not compute never matches.
func Verify(password, hashed string) bool {
	got, ok := Crypt(password, hashed)
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(hashed)) == 1
}

// Crypt computes the crypt(3) string of password with the method and salt
// of setting (a full hash or just "$id$salt"). ok is false for a method it
// does not know.
func Crypt(password, setting string) (string, bool) {
	switch {
	case strings.HasPrefix(setting, "$1$"):
		return md5Crypt([]byte(password), setting[3:]), true
	case strings.HasPrefix(setting, "$5$"):
		return shaCrypt(sha256.New, "$5$", sha256Order, []byte(password), setting[3:]), true
	case strings.HasPrefix(setting, "$6$"):
		return shaCrypt(sha512.New, "$6$", sha512Order, []byte(password), setting[3:]), true
	}
	return "", false
}

// b64 appends n characters of the 24-bit value w, low bits first.
func b64(out []byte, w uint, n int) []byte {
	for ; n > 0; n-- {
		out = append(out, alphabet[w&0x3f])
		w >>= 6
	}
	return out
}

// saltOf cuts the salt at the next '$' and at max bytes.
func saltOf(s string, max int) string {
	if i := strings.IndexByte(s, '$'); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// md5Crypt is Poul-Henning Kamp's MD5-based crypt.
func md5Crypt(pw []byte, rest string) string {
	salt := []byte(saltOf(rest, 8))
	h := md5.New()
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	alt := h.Sum(nil)

	h.Reset()
	h.Write(pw)
	h.Write([]byte("$1$"))
	h.Write(salt)
	for n := len(pw); n > 0; n -= 16 {
		h.Write(alt[:min(n, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(pw[:1])
		}
	}
	final := h.Sum(nil)
	for i := 0; i < 1000; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(pw)
		} else {
			h.Write(final)
		}
		if i%3 != 0 {
			h.Write(salt)
		}
		if i%7 != 0 {
			h.Write(pw)
		}
		if i&1 != 0 {
			h.Write(final)
		} else {
			h.Write(pw)
		}
		final = h.Sum(final[:0])
	}
	out := append([]byte("$1$"), salt...)
	out = append(out, '$')
	f := final
	for _, t := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = b64(out, uint(f[t[0]])<<16|uint(f[t[1]])<<8|uint(f[t[2]]), 4)
	}
	out = b64(out, uint(f[11]), 2)
	return string(out)
}

// The byte order of the SHA-crypt encodings, three bytes per group (the
// last group may be short; -1 stands for a zero byte).
var (
	sha256Order = [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}, {-1, 31, 30}}
	sha512Order = [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
		{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
		{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}, {-1, -1, 63}}
)

const (
	roundsDefault = 5000
	roundsMin     = 1000
	roundsMax     = 999999999
)

// shaCrypt is Ulrich Drepper's SHA-crypt (SHA-256 and SHA-512).
func shaCrypt(newHash func() hash.Hash, magic string, order [][3]int, pw []byte, rest string) string {
	rounds, custom := roundsDefault, false
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		if i := strings.IndexByte(r, '$'); i > 0 {
			if n, err := strconv.ParseUint(r[:i], 10, 64); err == nil {
				rounds = int(min(max(n, roundsMin), roundsMax))
				custom = true
				rest = r[i+1:]
			}
		}
	}
	salt := []byte(saltOf(rest, 16))

	h := newHash()
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	b := h.Sum(nil)
	size := len(b)

	h.Reset()
	h.Write(pw)
	h.Write(salt)
	n := len(pw)
	for ; n > size; n -= size {
		h.Write(b)
	}
	h.Write(b[:n])
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			h.Write(b)
		} else {
			h.Write(pw)
		}
	}
	a := h.Sum(nil)

	h.Reset()
	for i := 0; i < len(pw); i++ {
		h.Write(pw)
	}
	p := repeatTo(h.Sum(nil), len(pw))

	h.Reset()
	for i := 0; i < 16+int(a[0]); i++ {
		h.Write(salt)
	}
	s := repeatTo(h.Sum(nil), len(salt))

	c := a
	for i := 0; i < rounds; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}

	out := []byte(magic)
	if custom {
		out = append(out, "rounds="+strconv.Itoa(rounds)+"$"...)
	}
	out = append(out, salt...)
	out = append(out, '$')
	for gi, g := range order {
		var w uint
		chars := 4
		for _, idx := range g {
			w <<= 8
			if idx >= 0 {
				w |= uint(c[idx])
			}
		}
		if gi == len(order)-1 {
			// The short tail: 3 characters for 2 bytes, 2 for 1.
			if g[0] < 0 {
				chars = 3
			}
			if g[1] < 0 {
				chars = 2
			}
		}
		out = b64(out, w, chars)
	}
	return string(out)
}

// repeatTo returns sum repeated (and cut) to n bytes.
func repeatTo(sum []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, sum[:min(len(sum), n-len(out))]...)
	}
	return out
}
