package parser

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// MapFile is a pattern reference, as HAProxy's pat_ref: the entries of a
// map file (or of an ACL's -f file), loaded once and shared by every
// converter and ACL naming the file. The runtime API (show map, add map...)
// names it by its file or by #ID.
type MapFile struct {
	ID   int
	File string
	// Map: a two-column file (a map converter, or an ACL's -M -f); ACL
	// pattern files are one column.
	Map     bool
	Entries []MapEntry
	// UsedBy lists the lines that use it, as "show map" describes them
	// ("map at file 'x.cfg' line 12").
	UsedBy []string
	// Sets are the pattern sets built from its entries: one per match and
	// output type of the converters (or -M ACLs) using it, once each (a
	// map_beg and a map_str on one file are two sets; HAProxy's entry_cnt
	// counts the entries of both).
	Sets []MapSet `json:",omitempty"`
}

// MapSet is a match type (str, beg, ip...) with an output type (str, int,
// ip; empty for an ACL).
type MapSet struct{ Match, Out string }

// MapEntry is one line of a map file: its key and its value (the rest of
// the line, maybe empty).
type MapEntry struct {
	Key, Value string
	Line       int
}

// Description is the text "show map" prints after the id and file.
func (m *MapFile) Description() string {
	return fmt.Sprintf("pattern loaded from file '%s' used by %s", m.File, strings.Join(m.UsedBy, ", by "))
}

// maxMapLine bounds a map file line, as HAProxy's read buffer (a longer
// line is cut, its rest read as the next line).
const maxMapLine = 16384 - 1

// ReadMapFile reads a map file as HAProxy's pat_ref_read_from_file_smp():
// a line starting with '#' is a comment, blank lines are skipped, the key
// is the first word (after leading blanks), the value the rest of the line
// without its surrounding blanks.
func ReadMapFile(name string) ([]MapEntry, error) {
	b, err := readRegularFile(name)
	if err != nil {
		return nil, err
	}
	return ParseMapText(string(b)), nil
}

// readRegularFile reads a pattern or map file. A device or other special
// file is refused: one that never ends (/dev/zero) would hang the load.
func readRegularFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode()&(os.ModeDevice|os.ModeCharDevice|os.ModeNamedPipe|os.ModeSocket) != 0 {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	return io.ReadAll(f)
}

// ParseMapText parses the text of a map file (ReadMapFile).
func ParseMapText(text string) []MapEntry {
	var out []MapEntry
	line := 0
	for text != "" {
		var l string
		if i := strings.IndexByte(text, '\n'); i >= 0 && i < maxMapLine {
			l, text = text[:i], text[i+1:]
		} else if len(text) > maxMapLine {
			l, text = text[:maxMapLine], text[maxMapLine:]
		} else {
			l, text = text, ""
		}
		line++
		if k, v, ok := ParseMapLine(l); ok {
			out = append(out, MapEntry{Key: k, Value: v, Line: line})
		}
	}
	return out
}

// ParseMapLine splits one map file line into its key and value; false for
// a comment or a blank line.
func ParseMapLine(l string) (key, value string, ok bool) {
	if strings.HasPrefix(l, "#") {
		return "", "", false
	}
	if i := strings.IndexAny(l, "\r\x00"); i >= 0 {
		l = l[:i]
	}
	l = strings.TrimLeft(l, " \t")
	if l == "" {
		return "", "", false
	}
	end := strings.IndexAny(l, " \t")
	if end < 0 {
		return l, "", true
	}
	return l[:end], strings.Trim(l[end:], " \t"), true
}

// MapKeyError checks a key for a match type: "" when valid, else
// HAProxy's message (without the file and line).
func MapKeyError(match, key string) string {
	var m string
	switch match {
	case "int":
		m = validIntPattern(key)
	case "ip":
		m = validPattern("ip", key)
	case "reg", "regm":
		m = validPattern("reg", key)
	}
	return strings.TrimSuffix(m, ".")
}

// MapValueError checks a value for an output type: "" when valid, else
// HAProxy's message.
func MapValueError(out, value string) string {
	ok := true
	switch out {
	case "int":
		_, err := strconv.ParseInt(value, 10, 64)
		ok = err == nil
	case "ip":
		ok = validIPPattern(value) && !strings.Contains(value, "/")
	}
	if !ok {
		return fmt.Sprintf("unable to parse '%s'", value)
	}
	return ""
}

// patRef returns the pattern reference of file, registering a new one
// (with the next id) when needed; asMap is the kind the caller needs. The
// message is HAProxy's when the file is already used the other way.
func (p *parser) patRef(file string, asMap bool, user string) (*MapFile, string, bool) {
	read := ReadMapFile
	if !asMap {
		read = readPatternEntries
	}
	if ref := p.patRefs[file]; ref != nil {
		if ref.Map != asMap {
			if asMap {
				return nil, fmt.Sprintf("The file \"%s\" is already used as one column file and cannot be used by as two column file.", file), false
			}
			return nil, fmt.Sprintf("The file \"%s\" is already used as two column file and cannot be used by as one column file.", file), false
		}
		ref.UsedBy = append(ref.UsedBy, user)
		return ref, "", true
	}
	entries, err := read(file)
	if err != nil {
		return nil, fmt.Sprintf("failed to open pattern file <%s>", file), false
	}
	ref := &MapFile{ID: p.nextRefID(), File: file, Map: asMap, Entries: entries, UsedBy: []string{user}}
	if p.patRefs == nil {
		p.patRefs = map[string]*MapFile{}
	}
	p.patRefs[file] = ref
	if asMap {
		p.cfg.Maps = append(p.cfg.Maps, ref)
	}
	return ref, "", false
}

// nextRefID numbers pattern references as HAProxy does: every map file,
// ACL pattern file and ACL expression takes the next id.
func (p *parser) nextRefID() int {
	id := p.refID
	p.refID++
	return id
}

// loadMap loads the map file of a map converter and checks its entries
// for the converter's match and output types.
func (p *parser) loadMap(file, match, out string) (*MapFile, string) {
	ref, msg, _ := p.patRef(file, true, fmt.Sprintf("map at file '%s' line %d", p.file, p.line))
	if msg != "" {
		return nil, msg
	}
	if m := p.checkMapEntries(ref, match, out); m != "" {
		return nil, m
	}
	return ref, ""
}

// checkMapEntries validates ref's entries for one more pattern set.
func (p *parser) checkMapEntries(ref *MapFile, match, out string) string {
	for _, e := range ref.Entries {
		if out != "" {
			if m := MapValueError(out, e.Value); m != "" {
				return fmt.Sprintf("%s at line %d of file '%s'", m, e.Line, ref.File)
			}
		}
		if m := MapKeyError(match, e.Key); m != "" {
			return fmt.Sprintf("%s at line %d of file '%s'", m, e.Line, ref.File)
		}
	}
	set := MapSet{match, out}
	for _, s := range ref.Sets {
		if s == set {
			return ""
		}
	}
	ref.Sets = append(ref.Sets, set)
	return ""
}

// readPatternEntries reads an ACL pattern file, a pattern a line.
func readPatternEntries(file string) ([]MapEntry, error) {
	lines, err := readPatternFile(file)
	if err != nil {
		return nil, err
	}
	out := make([]MapEntry, len(lines))
	for i, l := range lines {
		out[i] = MapEntry{Key: l}
	}
	return out, nil
}

// aclPatternFile loads the patterns of an ACL's -f file (its keys with
// -M, the file read as a map).
func (p *parser) aclPatternFile(file string, asMap bool, match string) ([]string, string) {
	user := fmt.Sprintf("acl at file '%s' line %d", p.file, p.line)
	if asMap {
		user = fmt.Sprintf("map at file '%s' line %d", p.file, p.line)
	}
	ref, msg, _ := p.patRef(file, asMap, user)
	if msg != "" {
		if strings.HasPrefix(msg, "failed to open") {
			msg += "."
		}
		return nil, msg
	}
	if asMap {
		set := MapSet{Match: match}
		found := false
		for _, s := range ref.Sets {
			found = found || s == set
		}
		if !found {
			ref.Sets = append(ref.Sets, set)
		}
	}
	out := make([]string, len(ref.Entries))
	for i, e := range ref.Entries {
		out[i] = e.Key
	}
	return out, ""
}
