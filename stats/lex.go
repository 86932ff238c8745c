package stats

import "strings"

// maxLine is the longest request line accepted, without its '\n': what
// HAProxy 2.6's CLI buffer takes in, tune.bufsize (16384) less
// tune.maxrewrite (1024). HAProxy answers nothing to a longer line.
const maxLine = 16384 - 1024

// maxWords bounds the number of words of one command (HAProxy: MAX_CLI_ARGS).
const maxWords = 64

// splitCommands splits one request line (without its line ending) into
// commands at each unescaped ';' and each command into words at runs of
// spaces and tabs. A backslash escapes the next character and is removed.
// A NUL byte ends the line, as in HAProxy's C strings. Every command of the
// line is returned, empty ones included (they are answered as unknown).
func splitCommands(line string) [][]string {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	var (
		cmds  [][]string
		words []string
		word  strings.Builder
		in    bool // inside a word
	)
	endWord := func() {
		if in {
			if len(words) < maxWords {
				words = append(words, word.String())
			}
			word.Reset()
			in = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			if i+1 < len(line) {
				i++
				word.WriteByte(line[i])
				in = true
			}
		case c == ';':
			endWord()
			cmds = append(cmds, words)
			words = nil
		case c == ' ' || c == '\t':
			endWord()
		default:
			word.WriteByte(c)
			in = true
		}
	}
	endWord()
	return append(cmds, words)
}
