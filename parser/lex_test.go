package parser

import (
	"reflect"
	"strings"
	"testing"
)

func testEnv(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestLexLine(t *testing.T) {
	env := testEnv(map[string]string{"HOST": "10.0.0.1", "EMPTY": "", "LIST": "a  b c", "X": "x"})
	tests := []struct {
		name string
		line string
		want []string
	}{
		{"plain", "  server s1 127.0.0.1:80 check", []string{"server", "s1", "127.0.0.1:80", "check"}},
		{"tabs", "\tbind\t*:80", []string{"bind", "*:80"}},
		{"comment after value", "timeout client 3600000ms # 1小时", []string{"timeout", "client", "3600000ms"}},
		{"comment glued", "daemon#x", []string{"daemon"}},
		{"full-line comment", "   # nothing", nil},
		{"empty", "", nil},
		{"double quotes keep spaces", `log-tag "a b#c"`, []string{"log-tag", "a b#c"}},
		{"single quotes are literal", `x '${HOST} \n'`, []string{"x", `${HOST} \n`}},
		{"glued quotes", `"a"b"c" "x"' y'`, []string{"abc", "x y"}},
		{"escaped space and hash", `a\ b \#c`, []string{"a b", "#c"}},
		{"escapes", `"\t\r\n\x41\\"`, []string{"\t\r\nA\\"}},
		{"unknown escape keeps backslash", `a\qb`, []string{`a\qb`}},
		{"trailing backslash is literal", `a\`, []string{`a\`}},
		{"env in double quotes", `"${HOST}:514"`, []string{"10.0.0.1:514"}},
		{"env without braces", `"$HOST"`, []string{"10.0.0.1"}},
		{"env not expanded unquoted", `maxconn $HOST`, []string{"maxconn", "$HOST"}},
		{"unset is empty", `"x${NOPE}y"`, []string{"xy"}},
		{"default when unset", `"${NOPE-dflt}"`, []string{"dflt"}},
		{"empty but set ignores default", `"${EMPTY-dflt}"`, nil},
		{"word expansion", `a "${LIST[*]}" z`, []string{"a", "a", "b", "c", "z"}},
		{"no word expansion without [*]", `"${LIST}"`, []string{"a  b c"}},
		{"escaped dollar", `"\$X"`, []string{"$X"}},
		{"CR ends the line", "bind :80\r", []string{"bind", ":80"}},
		{"pseudo vars", `"${.LINE}"`, []string{"7"}},
		{"interior empty word kept", `log "" local2`, []string{"log", "", "local2"}},
	}
	pseudo := func(name string) (string, bool) {
		if name == ".LINE" {
			return "7", true
		}
		return "", false
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lexLine(tc.line, env, pseudo)
			if err != nil {
				t.Fatalf("lexLine(%q): %s", tc.line, err.render(tc.line))
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("lexLine(%q) = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestLexErrors(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"unmatched double quote", `    log "127.0.0.1 local2`, "unmatched quote at position 9:\n  log \"127.0.0.1 local2\n      ^"},
		{"unmatched single quote", `a 'b`, "unmatched quote at position 3:"},
		{"bad var first char", `    maxconn "$1x"`, "forbidden first char in environment variable name at position 15:\n  maxconn \"$1x\"\n            ^"},
		{"unmatched brace", `    maxconn "${FOO"`, "unmatched brace in environment variable name at position 15:"},
		{"bad hex", `a \xZZ`, "truncated or invalid hexadecimal sequence at position 3:"},
		{"bad expansion", `"${A[x]}"`, "truncated or invalid word expansion sequence at position 5:"},
		{"too many words", strings.Repeat("w ", 70), "too many words"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lexLine(tc.line, testEnv(nil), nil)
			if err == nil {
				t.Fatalf("lexLine(%q): no error", tc.line)
			}
			if got := err.render(tc.line); !strings.HasPrefix(got, tc.want) {
				t.Errorf("error = %q, want prefix %q", got, tc.want)
			}
		})
	}
}

func TestSanitizeLongLine(t *testing.T) {
	line := strings.Repeat("x", 100) + "\x01"
	text, at := sanitizeForPrinting(line, 100, 80)
	if !strings.HasPrefix(text, "...") || !strings.HasSuffix(text, "...") {
		t.Errorf("long line not windowed: %q", text)
	}
	if text[at] != '?' {
		t.Errorf("caret at %d points to %q, want the '?' of the control char", at, text[at])
	}
}
