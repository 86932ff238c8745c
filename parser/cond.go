package parser

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CompatVersion is the HAProxy version goproxy behaves as; .if
// version_atleast()/version_before() compare against it.
const CompatVersion = "2.6.12"

// maxCondDepth bounds the recursion of conditional expressions.
const maxCondDepth = 1024

// condEval evaluates the expression of a .if/.elif line, with HAProxy's
// grammar: terms are integers, predicates, (EXPR) and !TERM; && binds
// tighter than ||.
type condEval struct {
	text     string
	pos      int
	env      func(string) (string, bool)
	features []string
	err      string
	errAt    int
}

// evalCondition returns 1 (true), 0 (false) or -1 with an error message and
// the byte offset of the error in text.
func evalCondition(text string, env func(string) (string, bool), features []string) (int, string, int) {
	if text == "" {
		return 0, "", 0
	}
	c := &condEval{text: text, env: env, features: features}
	v, ok := c.expr(maxCondDepth)
	if !ok {
		if c.err == "" {
			c.err = fmt.Sprintf("unparsable conditional expression '%s'", text)
			c.errAt = 0
		}
		return -1, c.err, c.errAt
	}
	c.skipSpaces()
	if c.pos < len(text) {
		return -1, fmt.Sprintf("unexpected character '%c' at the end of conditional expression '%s'", text[c.pos], text), c.pos
	}
	if v {
		return 1, "", 0
	}
	return 0, "", 0
}

func (c *condEval) skipSpaces() {
	for c.pos < len(c.text) && (c.text[c.pos] == ' ' || c.text[c.pos] == '\t') {
		c.pos++
	}
}

func (c *condEval) fail(format string, at int, args ...any) (bool, bool) {
	if c.err == "" {
		c.err = fmt.Sprintf(format, args...)
		c.errAt = at
	}
	return false, false
}

// expr parses AND ('||' AND)*. Every term is parsed (errors anywhere are
// reported) and evaluated.
func (c *condEval) expr(depth int) (bool, bool) {
	if depth <= 0 {
		return c.fail("unparsable conditional expression '%s'", c.pos, c.text[c.pos:])
	}
	v, ok := c.and(depth - 1)
	if !ok {
		return false, false
	}
	c.skipSpaces()
	if strings.HasPrefix(c.text[c.pos:], "||") {
		c.pos += 2
		c.skipSpaces()
		r, ok := c.expr(depth - 1)
		if !ok {
			return false, false
		}
		v = v || r
	}
	return v, true
}

func (c *condEval) and(depth int) (bool, bool) {
	if depth <= 0 {
		return c.fail("unparsable conditional sub-expression '%s'", c.pos, c.text[c.pos:])
	}
	start := c.pos
	v, ok, found := c.term(depth - 1)
	if !ok {
		return false, false
	}
	if !found {
		return c.fail("unparsable conditional sub-expression '%s'", start, c.text[start:])
	}
	c.skipSpaces()
	if strings.HasPrefix(c.text[c.pos:], "&&") {
		c.pos += 2
		c.skipSpaces()
		r, ok := c.and(depth - 1)
		if !ok {
			return false, false
		}
		v = v && r
	}
	return v, true
}

// term returns value, ok (no error) and found (something parsed).
func (c *condEval) term(depth int) (bool, bool, bool) {
	c.skipSpaces()
	if c.pos >= len(c.text) {
		return false, true, false
	}
	start := c.pos
	if depth <= 0 {
		v, ok := c.fail("unparsable conditional expression '%s'", start, c.text[start:])
		return v, ok, false
	}
	neg := false
	for c.pos < len(c.text) && c.text[c.pos] == '!' {
		neg = !neg
		c.pos++
		c.skipSpaces()
	}
	if n, ok := c.integer(); ok {
		return (n != 0) != neg, true, true
	}
	if c.pos < len(c.text) && c.text[c.pos] == '(' {
		c.pos++
		c.skipSpaces()
		v, ok := c.expr(depth - 1)
		if !ok {
			return false, false, false
		}
		c.skipSpaces()
		if c.pos >= len(c.text) || c.text[c.pos] != ')' {
			c.fail("expected ')' after conditional expression '%s'", start, c.text[start:])
			return false, false, false
		}
		c.pos++
		c.skipSpaces()
		return v != neg, true, true
	}
	name := c.text[c.pos:]
	if i := strings.IndexAny(name, " ("); i >= 0 {
		name = name[:i]
	}
	nargs, known := predicates[name]
	if !known {
		c.fail("unparsable conditional expression '%s'", start, c.text[start:])
		return false, false, false
	}
	c.pos += len(name)
	args, ok := c.arguments(name, nargs)
	if !ok {
		return false, false, false
	}
	v, ok := c.predicate(name, args)
	if !ok {
		return false, false, false
	}
	return v != neg, true, true
}

// integer parses a C strtol(.., 0) style integer at the current position.
func (c *condEval) integer() (int64, bool) {
	s := c.text[c.pos:]
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	base := 10
	digits := "0123456789"
	if strings.HasPrefix(s[i:], "0x") || strings.HasPrefix(s[i:], "0X") {
		if len(s) > i+2 && isHex(s[i+2]) {
			base, digits, i = 16, "0123456789abcdefABCDEF", i+2
		}
	} else if strings.HasPrefix(s[i:], "0") {
		base, digits = 8, "01234567"
	}
	j := i
	for j < len(s) && strings.IndexByte(digits, s[j]) >= 0 {
		j++
	}
	if j == i {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimPrefix(s[:j], "0x"), "0X"), base, 64)
	if err != nil {
		n = 1 // overflow: non-zero anyway
	}
	c.pos += j
	return n, true
}

var predicates = map[string]int{
	"defined":                 1,
	"feature":                 1,
	"streq":                   2,
	"strneq":                  2,
	"version_atleast":         1,
	"version_before":          1,
	"openssl_version_atleast": 1,
	"openssl_version_before":  1,
	"ssllib_name_startswith":  1,
}

// arguments parses "(a,b)" after a predicate name.
func (c *condEval) arguments(name string, n int) ([]string, bool) {
	at := c.pos
	if c.pos >= len(c.text) || c.text[c.pos] != '(' {
		c.fail("missing arguments (got 0/%d) in argument 1 of predicate '%s' used in conditional expression", at, n, name)
		return nil, false
	}
	end := strings.IndexByte(c.text[c.pos:], ')')
	if end < 0 {
		c.fail("expected ')' after argument list in argument %d of predicate '%s' used in conditional expression", len(c.text), n, name)
		return nil, false
	}
	inner := c.text[c.pos+1 : c.pos+end]
	c.pos += end + 1
	var args []string
	if inner != "" {
		args = strings.Split(inner, ",")
	}
	if len(args) < n {
		c.fail("missing arguments (got %d/%d) in argument %d of predicate '%s' used in conditional expression", at, len(args), n, len(args)+1, name)
		return nil, false
	}
	if len(args) > n {
		c.fail("end of arguments expected at position %d, but got ',%s' in argument %d of predicate '%s' used in conditional expression", at, n+1, args[n], n+1, name)
		return nil, false
	}
	return args, true
}

func (c *condEval) predicate(name string, args []string) (bool, bool) {
	switch name {
	case "defined":
		if c.env == nil {
			return false, true
		}
		_, ok := c.env(args[0])
		return ok, true
	case "feature":
		for _, f := range c.features {
			if f == "+"+args[0] {
				return true, true
			}
		}
		return false, true
	case "streq":
		return args[0] == args[1], true
	case "strneq":
		return args[0] != args[1], true
	case "version_atleast":
		return compareVersions(CompatVersion, args[0]) >= 0, true
	case "version_before":
		return compareVersions(CompatVersion, args[0]) < 0, true
	case "ssllib_name_startswith":
		return false, true // goproxy links no SSL library
	default: // openssl_version_*: no OpenSSL in goproxy
		return c.fail("internal error: no SSL library available for predicate '%s'", c.pos, name)
	}
}

// compareVersions compares dotted versions with optional -devN/-rc suffixes;
// missing components count as 0. It returns -1, 0 or 1.
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// versionParts turns "2.6.12" into [2 6 12 0 0] and "2.7-dev3" into
// [2 7 0 -1 3]: a -dev release sorts before the release itself.
func versionParts(v string) []int {
	main, suffix, _ := strings.Cut(v, "-")
	var out []int
	for _, f := range strings.Split(main, ".") {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	for len(out) < 3 {
		out = append(out, 0)
	}
	out = out[:3]
	switch {
	case strings.HasPrefix(suffix, "dev"):
		n, _ := strconv.Atoi(strings.TrimPrefix(suffix, "dev"))
		out = append(out, -2, n)
	case strings.HasPrefix(suffix, "rc"):
		n, _ := strconv.Atoi(strings.TrimPrefix(suffix, "rc"))
		out = append(out, -1, n)
	default:
		out = append(out, 0, 0)
	}
	return out
}

// CondSyntaxError is a condition that cannot be split into words (an
// unmatched quote): HAProxy's -cc reports it as a syntax error, not as a
// failed evaluation.
type CondSyntaxError struct{ Msg string }

func (e *CondSyntaxError) Error() string { return e.Msg }

// EvalCondition evaluates a condition of .if, as "-cc" does on the command
// line: the environment from env (nil: the process's), the feature list
// of -vv.
func EvalCondition(text string, env func(string) (string, bool), features []string) (bool, error) {
	if env == nil {
		env = os.LookupEnv
	}
	// As HAProxy's -cc: the argument is split into words like a
	// configuration line (quotes, escapes, environment variables), then
	// evaluated as the words of an .if.
	words, lerr := lexLine(text, env, nil)
	if lerr != nil {
		return false, &CondSyntaxError{Msg: strings.ToUpper(lerr.what[:1]) + lerr.what[1:] + "."}
	}
	v, msg, _ := evalCondition(strings.Join(words, " "), env, features)
	if v < 0 {
		return false, errors.New(msg)
	}
	return v == 1, nil
}
