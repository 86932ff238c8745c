package stats

import (
	"sort"
	"strings"
)

// kwEntry is one CLI keyword as HAProxy registers it: up to five words and
// a usage line (empty for help, prompt and quit, which are always appended).
type kwEntry struct {
	words []string
	usage string
}

const (
	kwPrefixWords = 5 // CLI_PREFIX_KW_NB
	maxMatches    = 5 // CLI_MAX_MATCHES
)

const usageTail = "  help [<command>]                        : list matching or all commands\n" +
	"  prompt                                  : toggle interactive mode with prompt\n" +
	"  quit                                    : disconnect\n"

// keywords lists every keyword HAProxy 2.6 shows, derived from its usage
// line: the leading words up to the first argument placeholder.
var keywords = func() []kwEntry {
	var out []kwEntry
	for _, u := range helpLines {
		var words []string
		for _, w := range strings.Fields(u) {
			if w == ":" || strings.ContainsAny(w[:1], "<[{(@*-") || len(words) == kwPrefixWords {
				break
			}
			words = append(words, w)
		}
		out = append(out, kwEntry{words: words, usage: u})
	}
	for _, w := range []string{"help", "prompt", "quit"} {
		out = append(out, kwEntry{words: []string{w}})
	}
	return out
}()

// fingerprint adds word to fp as HAProxy's update_word_fingerprint does.
func fingerprint(fp *[1024]uint8, word string) {
	from := 28
	for i := 0; i < len(word); i++ {
		c := word[i]
		var to int
		switch {
		case c >= 'a' && c <= 'z':
			to = int(c-'a') + 1
		case c >= 'A' && c <= 'Z':
			to = int(c-'A') + 1
		case c >= '0' && c <= '9':
			to = 27
		default:
			to = 28
		}
		fp[to] = 1
		fp[32*from+to]++
		from = to
	}
	fp[32*from+28]++
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// sigCell is one non-zero cell of a fingerprint.
type sigCell struct {
	at uint16
	n  uint8
}

// kwSig is the fingerprint of a keyword's words from some index on, kept
// as its non-zero cells, with the total length of those words.
type kwSig struct {
	cells  []sigCell
	length int
}

// kwSigs[k][i] is the fingerprint of keywords[k].words[i:], for every i up
// to len(words): the distance to a command's words then costs a few dozen
// steps instead of two 1 KiB arrays per keyword.
var kwSigs = signatures(keywords)

// signatures computes kwSigs for a keyword list.
func signatures(keywords []kwEntry) [][]kwSig {
	out := make([][]kwSig, len(keywords))
	for k, kw := range keywords {
		out[k] = make([]kwSig, len(kw.words)+1)
		for i := range out[k] {
			var fp [1024]uint8
			n := 0
			for _, w := range kw.words[i:] {
				fingerprint(&fp, w)
				n += len(w)
			}
			ks := kwSig{length: n}
			for at, v := range fp {
				if v != 0 {
					ks.cells = append(ks.cells, sigCell{uint16(at), v})
				}
			}
			out[k][i] = ks
		}
	}
	return out
}

// usageMessage builds the help or unknown-command text for args as
// HAProxy's cli_gen_usage_msg does: exact prefix matches, then up to five
// fuzzy candidates for the first non-matching word, else the whole list.
func usageMessage(args []string, isHelp bool) string {
	return workerUsage.usage(args, isHelp)
}

// workerUsage is the table of a process's own CLI.
var workerUsage = &UsageTable{keywords: keywords, sigs: kwSigs}

// UsageTable renders the help and unknown-command texts of a CLI from its
// keyword list, as HAProxy's cli_gen_usage_msg does.
type UsageTable struct {
	keywords []kwEntry
	sigs     [][]kwSig
}

// Keyword is one entry of a CLI's help: its words and its usage line.
type Keyword struct {
	Words []string
	Usage string
}

// NewUsageTable builds the table of a CLI with the keywords kws; help,
// prompt and quit are appended, as HAProxy does.
func NewUsageTable(kws []Keyword) *UsageTable {
	var out []kwEntry
	for _, k := range kws {
		out = append(out, kwEntry{words: k.Words, usage: k.Usage})
	}
	for _, w := range []string{"help", "prompt", "quit"} {
		out = append(out, kwEntry{words: []string{w}})
	}
	return &UsageTable{keywords: out, sigs: signatures(out)}
}

// Usage returns the help text (isHelp) or the answer to the unknown
// command args.
func (t *UsageTable) Usage(args []string, isHelp bool) string { return t.usage(args, isHelp) }

func (t *UsageTable) usage(args []string, isHelp bool) string {
	keywords, kwSigs := t.keywords, t.sigs
	if len(args) > kwPrefixWords {
		args = args[:kwPrefixWords]
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	length := 0
	for _, kw := range keywords {
		for i := 0; i < len(kw.words) && arg(i) != ""; i++ {
			if kw.words[i] != args[i] {
				break
			}
			if i+1 > length {
				length = i + 1
			}
		}
	}
	prefixMatch := func(kw kwEntry) bool {
		for i := 0; i < length; i++ {
			if i >= len(kw.words) || arg(i) == "" || kw.words[i] != args[i] {
				return i == length
			}
		}
		return true
	}

	var b strings.Builder
	switch {
	case isHelp:
		b.WriteString("The following commands are valid at this level:\n")
	case length == 0 && arg(0) == "":
		b.WriteString("Unknown command. Please enter one of the following commands only:\n")
	default:
		b.WriteString("Unknown command, but maybe one of the following ones is a better match:\n")
	}

	type match struct {
		kw   *kwEntry
		dist int
	}
	var matches [maxMatches]match
	for i := range matches {
		matches[i].dist = int(^uint(0) >> 1)
	}
	if arg(length) != "" {
		// The words' fingerprint is the same against every keyword: build
		// it once; the keywords' own are precomputed (kwSigs).
		var wsig [1024]uint8
		wlen := 0
		for i := length; i < kwPrefixWords && arg(i) != ""; i++ {
			fingerprint(&wsig, args[i])
			wlen += len(args[i])
		}
		wsum := 0
		for _, v := range wsig {
			wsum += int(v)
		}
		for k := range keywords {
			kw := &keywords[k]
			if kw.usage == "" || !prefixMatch(*kw) {
				continue
			}
			ks := &kwSigs[k][min(length, len(kw.words))]
			totlen := wlen + ks.length
			dist := wsum
			for _, c := range ks.cells {
				w := int(wsig[c.at])
				dist += abs(w-int(c.n)) - w
			}
			if dist < 5*totlen/2 && dist < matches[maxMatches-1].dist {
				matches[maxMatches-1] = match{kw, dist}
				for i := maxMatches - 2; i >= 0; i-- {
					if matches[i+1].dist >= matches[i].dist {
						break
					}
					matches[i], matches[i+1] = matches[i+1], matches[i]
				}
			}
		}
	}
	var entries []string
	if matches[0].kw != nil {
		for _, m := range matches {
			if m.kw == nil || m.dist > 5*matches[0].dist/2 {
				break
			}
			entries = append(entries, m.kw.usage)
		}
	} else {
		for _, kw := range keywords {
			if kw.usage != "" && prefixMatch(kw) {
				entries = append(entries, kw.usage)
			}
		}
	}
	sort.Strings(entries)
	for _, e := range entries {
		b.WriteString("  ")
		b.WriteString(e)
		b.WriteByte('\n')
	}
	b.WriteString(usageTail)
	return b.String()
}
