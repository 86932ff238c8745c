package parser

import (
	"fmt"
	"strings"
)

// maxLineArgs is HAProxy's MAX_LINE_ARGS: the most words a line may have.
const maxLineArgs = 64

// lexer cuts one logical configuration line into words, the way HAProxy's
// parse_line() does: unprotected spaces separate words, '#' starts a
// comment, "..." protects spaces and expands ${VAR}, '...' protects
// everything, backslash escapes work outside single quotes.
type lexer struct {
	line  string // the whole line, leading spaces included
	pos   int    // current byte offset in line
	out   strings.Builder
	words []string
	// env looks a variable up; ok is false when it is unset.
	env func(name string) (value string, ok bool)
	// pseudo resolves .LINE, .FILE and .SECTION.
	pseudo func(name string) (value string, ok bool)
}

// lexError is a lexing failure at a byte offset of the line.
type lexError struct {
	what string // HAProxy's text, e.g. "unmatched quote"
	at   int    // byte offset in the line
}

// lexLine splits line into words. Trailing empty words are dropped; an
// empty result means an empty or comment-only line.
func lexLine(line string, env, pseudo func(string) (string, bool)) ([]string, *lexError) {
	l := &lexer{line: line, env: env, pseudo: pseudo}
	return l.run()
}

func (l *lexer) next() byte {
	if l.pos >= len(l.line) {
		return 0
	}
	c := l.line[l.pos]
	l.pos++
	return c
}

func (l *lexer) peek(off int) byte {
	if l.pos+off >= len(l.line) {
		return 0
	}
	return l.line[l.pos+off]
}

func (l *lexer) endWord() {
	l.words = append(l.words, l.out.String())
	l.out.Reset()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func (l *lexer) run() ([]string, *lexError) {
	// Leading spaces are not part of the first word.
	for l.pos < len(l.line) && isSpace(l.line[l.pos]) {
		l.pos++
	}
	var squote, dquote bool
	quoteAt := -1
	for {
		c := l.peek(0)
		switch {
		case c == 0 || c == '\n' || c == '\r':
			l.endWord()
			if squote || dquote {
				return nil, &lexError{"unmatched quote", quoteAt}
			}
			return l.trim()
		case c == '#' && !squote && !dquote:
			l.endWord()
			return l.trim()
		case c == '"' && !squote:
			dquote = !dquote
			quoteAt = l.pos
			l.pos++
		case c == '\'' && !dquote:
			squote = !squote
			quoteAt = l.pos
			l.pos++
		case c == '\\' && !squote:
			if err := l.escape(dquote); err != nil {
				return nil, err
			}
		case isSpace(c) && !squote && !dquote:
			for l.pos < len(l.line) && isSpace(l.line[l.pos]) {
				l.pos++
			}
			l.endWord()
			if len(l.words) >= maxLineArgs {
				return nil, &lexError{"too many words", l.pos}
			}
		case c == '$' && dquote:
			if err := l.variable(); err != nil {
				return nil, err
			}
		default:
			l.out.WriteByte(c)
			l.pos++
		}
	}
}

// trim drops trailing empty words, as HAProxy's args point to the final zero.
func (l *lexer) trim() ([]string, *lexError) {
	w := l.words
	for len(w) > 0 && w[len(w)-1] == "" {
		w = w[:len(w)-1]
	}
	if len(w) > maxLineArgs {
		return nil, &lexError{"too many words", len(l.line)}
	}
	return w, nil
}

// escape handles a backslash outside single quotes.
func (l *lexer) escape(dquote bool) *lexError {
	start := l.pos
	l.pos++ // the backslash
	c := l.peek(0)
	switch c {
	case ' ', '\\', '#', '\'', '"':
		l.out.WriteByte(c)
		l.pos++
	case 't':
		l.out.WriteByte('\t')
		l.pos++
	case 'n':
		l.out.WriteByte('\n')
		l.pos++
	case 'r':
		l.out.WriteByte('\r')
		l.pos++
	case '$':
		if dquote {
			l.out.WriteByte('$')
			l.pos++
		} else {
			l.out.WriteByte('\\')
		}
	case 'x':
		if !isHex(l.peek(1)) || !isHex(l.peek(2)) {
			return &lexError{"truncated or invalid hexadecimal sequence", start}
		}
		l.out.WriteByte(hexVal(l.peek(1))<<4 | hexVal(l.peek(2)))
		l.pos += 3
	default:
		// Not an escape sequence: the backslash stays.
		l.out.WriteByte('\\')
	}
	return nil
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// variable expands $NAME, ${NAME}, ${NAME-default} and ${NAME[*]} inside
// double quotes.
func (l *lexer) variable() *lexError {
	l.pos++ // '$'
	brace := -1
	if l.peek(0) == '{' {
		brace = l.pos
		l.pos++
	}
	c := l.peek(0)
	if !isAlpha(c) && c != '_' && c != '.' {
		return &lexError{"forbidden first char in environment variable name", l.pos}
	}
	nameStart := l.pos
	if c == '.' {
		l.pos++
	}
	for l.pos < len(l.line) && (isAlpha(l.line[l.pos]) || isDigit(l.line[l.pos]) || l.line[l.pos] == '_') {
		l.pos++
	}
	name := l.line[nameStart:l.pos]
	var value string
	var ok bool
	if strings.HasPrefix(name, ".") {
		if l.pseudo != nil {
			value, ok = l.pseudo(name)
		}
		if !ok {
			return &lexError{"forbidden first char in environment variable name", nameStart}
		}
	} else if l.env != nil {
		value, ok = l.env(name)
	}
	expand := false
	if l.peek(0) == '[' && brace >= 0 {
		at := l.pos
		if l.peek(1) != '*' || l.peek(2) != ']' {
			return &lexError{"truncated or invalid word expansion sequence", at}
		}
		l.pos += 3
		expand = true
	}
	if brace >= 0 {
		if l.peek(0) == '-' {
			end := strings.IndexByte(l.line[l.pos:], '}')
			if end < 0 {
				return &lexError{"unmatched brace in environment variable name", brace}
			}
			if !ok {
				value, ok = l.line[l.pos+1:l.pos+end], true
			}
			l.pos += end
		} else if l.peek(0) != '}' {
			return &lexError{"unmatched brace in environment variable name", brace}
		}
		l.pos++ // '}'
	}
	if !expand {
		l.out.WriteString(value)
		return nil
	}
	for i := 0; i < len(value); {
		if isSpace(value[i]) {
			l.endWord()
			for i < len(value) && isSpace(value[i]) {
				i++
			}
			continue
		}
		l.out.WriteByte(value[i])
		i++
	}
	return nil
}

// sanitizeForPrinting mirrors HAProxy's sanitize_for_printing(): it makes
// the line printable and, for long lines, centres the window on pos. It
// returns the printable text and the new position of pos in it.
func sanitizeForPrinting(line string, pos, width int) (string, int) {
	var b strings.Builder
	in := 0
	shift := 0
	limit := width
	if pos >= width {
		shift = pos - width/2
		in = shift + 3
		limit = width - 3
		b.WriteString("...")
	}
	n := 0
	for in < len(line) && n < limit {
		c := line[in]
		switch {
		case isSpace(c):
			b.WriteByte(' ')
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			b.WriteByte('?')
		}
		in++
		n++
	}
	if pos >= width {
		b.WriteString("...")
	}
	return b.String(), pos - shift
}

// render turns a lexing failure into HAProxy's multi-line message.
func (e *lexError) render(line string) string {
	stripped := strings.TrimLeft(line, " \t\v\f")
	lead := len(line) - len(stripped)
	if e.what == "too many words" {
		return fmt.Sprintf("too many words, truncating after word %d.", maxLineArgs)
	}
	text, at := sanitizeForPrinting(stripped, e.at-lead, 80)
	return fmt.Sprintf("%s at position %d:\n  %s\n  %*s", e.what, e.at+1, text, at+1, "^")
}
