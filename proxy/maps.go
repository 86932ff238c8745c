package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"goproxy/internal/stktable"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"goproxy/parser"
)

// MapRef is a map file at run time, as HAProxy's pattern reference: its
// entries, which the runtime API lists and changes (show/add/set/del/clear
// map), and the pattern sets the map converters look up, one per match
// and output type. A change rebuilds the sets' indexes, which lookups read
// through an atomic pointer: the event loops never wait for the CLI.
type MapRef struct {
	ID   int
	File string
	Desc string // what "show map" says of it

	mu      sync.Mutex
	entries []mapEntry
	seq     uint64
	sets    []*mapSet
	// curVer is the version the lookups see, nextVer the last one
	// prepared (prepare map); entries of other versions wait for their
	// commit.
	curVer, nextVer uint32
	// count is HAProxy's entry_cnt, kept as it keeps it: an entry loaded
	// or added counts once per pattern set, one removed only once.
	count int
}

// mapEntry is one entry; ref is its "#<ref>" identifier, ver the
// version it belongs to.
type mapEntry struct {
	ref        uint64
	key, value string
	ver        uint32
}

// MapEntry is an entry as the runtime API shows it.
type MapEntry struct {
	Ref        string // "0x..." (del map and set map take "#0x...")
	Key, Value string
}

// Map errors the runtime API words in HAProxy's texts.
var (
	ErrMapNoEntry = errors.New("map: no such entry")
)

// MapInputError is a key or value that does not parse for one of the
// map's pattern sets; Msg is HAProxy's message.
type MapInputError struct{ Msg string }

func (e *MapInputError) Error() string { return e.Msg }

// mapSet is the entries of a map indexed for one match and output type.
type mapSet struct {
	match, out string
	idx        atomic.Pointer[mapIndex]
}

// mapIndex is an immutable index of the entries: str matches by a hash
// map (the first entry of a key wins), ip by prefixes longest first, beg
// by keys longest first, the other methods by the entries in order.
type mapIndex struct {
	exact map[string]sample
	items []mapItem
}

type mapItem struct {
	key    []byte
	lo, hi int64
	pfx    netip.Prefix
	re     *regexp.Regexp
	val    sample
}

// NewMapRef builds the run-time map of a parsed map file.
func NewMapRef(f *parser.MapFile) *MapRef {
	m := &MapRef{ID: f.ID, File: f.File, Desc: f.Description()}
	for _, e := range f.Entries {
		m.entries = append(m.entries, mapEntry{ref: m.nextRef(), key: e.Key, value: e.Value})
	}
	for _, s := range f.Sets {
		m.sets = append(m.sets, &mapSet{match: s.Match, out: s.Out})
	}
	m.count = len(m.entries) * max(len(m.sets), 1)
	m.rebuild()
	return m
}

// nextRef returns a new entry identifier, shaped like HAProxy's (an
// address).
func (m *MapRef) nextRef() uint64 {
	m.seq++
	return 0x55d0_0000_0000 + uint64(m.ID)<<24 + m.seq*0x50
}

// set returns the pattern set of a match and output type (created by the
// parser's list).
func (m *MapRef) set(match, out string) *mapSet {
	for _, s := range m.sets {
		if s.match == match && s.out == out {
			return s
		}
	}
	s := &mapSet{match: match, out: out}
	m.sets = append(m.sets, s)
	s.idx.Store(buildIndex(s, m.entries, m.curVer))
	return s
}

// rebuild re-indexes every set; called with mu held (or before use).
func (m *MapRef) rebuild() {
	for _, s := range m.sets {
		s.idx.Store(buildIndex(s, m.entries, m.curVer))
	}
}

// buildIndex indexes the entries of version ver for s.
func buildIndex(s *mapSet, entries []mapEntry, ver uint32) *mapIndex {
	x := &mapIndex{}
	if s.match == "str" {
		x.exact = make(map[string]sample, len(entries))
	}
	for _, e := range entries {
		if e.ver != ver {
			continue
		}
		v, ok := parseMapValue(s.out, e.value)
		if !ok {
			continue
		}
		if x.exact != nil {
			if _, dup := x.exact[e.key]; !dup {
				x.exact[e.key] = v
			}
			continue
		}
		it := mapItem{key: []byte(e.key), val: v}
		switch s.match {
		case "int":
			r, err := parseIntPattern(e.key, "", false)
			if err != nil {
				continue
			}
			it.lo, it.hi = r[0], r[1]
		case "ip":
			p, err := parsePrefix(e.key)
			if err != nil {
				continue
			}
			it.pfx = p
		case "reg", "regm":
			re, err := regexp.Compile(e.key)
			if err != nil {
				continue
			}
			it.re = re
		}
		x.items = append(x.items, it)
	}
	switch s.match {
	case "ip":
		sort.SliceStable(x.items, func(i, j int) bool { return x.items[i].pfx.Bits() > x.items[j].pfx.Bits() })
	case "beg":
		sort.SliceStable(x.items, func(i, j int) bool { return len(x.items[i].key) > len(x.items[j].key) })
	}
	return x
}

// parseMapValue parses a value for an output type.
func parseMapValue(out, v string) (sample, bool) {
	switch out {
	case "int":
		n, err := strconv.ParseInt(v, 10, 64)
		return sample{typ: smpInt, i: n}, err == nil
	case "ip":
		ip, err := netip.ParseAddr(v)
		return sample{typ: smpIP, ip: ip}, err == nil
	}
	return sample{typ: smpStr, b: []byte(v)}, true
}

// lookup finds the value of a (cast) sample.
func (s *mapSet) lookup(smp *sample) (sample, bool) {
	x := s.idx.Load()
	if x.exact != nil {
		v, ok := x.exact[string(smp.b)]
		return v, ok
	}
	switch s.match {
	case "ip":
		ip := smp.ip
		for _, cand := range []netip.Addr{ip, ip.Unmap(), netip.AddrFrom16(ip.As16())} {
			for i := range x.items {
				if it := &x.items[i]; it.pfx.Addr().BitLen() == cand.BitLen() && it.pfx.Contains(cand) {
					return it.val, true
				}
			}
		}
		return sample{}, false
	case "int":
		for i := range x.items {
			if it := &x.items[i]; smp.i >= it.lo && smp.i <= it.hi {
				return it.val, true
			}
		}
		return sample{}, false
	}
	for i := range x.items {
		it := &x.items[i]
		var ok bool
		switch s.match {
		case "beg":
			ok = bytes.HasPrefix(smp.b, it.key)
		case "end":
			ok = bytes.HasSuffix(smp.b, it.key)
		case "sub":
			ok = bytes.Contains(smp.b, it.key)
		case "reg", "regm":
			ok = it.re.Match(smp.b)
		case "dir":
			ok = matchWord(smp.b, it.key, '/')
		case "dom":
			ok = matchWord(smp.b, it.key, '.')
		}
		if ok {
			return it.val, true
		}
	}
	return sample{}, false
}

// lookupRegm is map_regm's lookup: the value of the first entry whose
// regular expression matches, its \<digit> references replaced by the
// groups of the match (HAProxy's exp_replace). matched tells a match from
// none (when the default applies); ok false with matched is a value
// HAProxy cannot build (a final backslash, longer than bufSize).
func (s *mapSet) lookupRegm(in []byte, bufSize int) (v sample, matched, ok bool) {
	x := s.idx.Load()
	for i := range x.items {
		it := &x.items[i]
		if m := it.re.FindSubmatchIndex(in); m != nil {
			b, ok := expReplace(it.val.b, in, m, bufSize)
			return sample{typ: smpStr, b: b}, true, ok
		}
	}
	return sample{}, false, false
}

// expReplace is HAProxy's exp_replace(): str copied with \N replaced by
// group N of the match m in src (nothing for a group that did not take
// part), \xHH by that byte and \<other> by that character; false for a
// final backslash or a result of bufSize bytes or more.
func expReplace(str, src []byte, m []int, bufSize int) ([]byte, bool) {
	out := make([]byte, 0, len(str)+16)
	for i := 0; i < len(str); i++ {
		c := str[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(str) {
			return nil, false
		}
		switch c = str[i]; {
		case c >= '0' && c <= '9':
			n := int(c - '0')
			if 2*n+1 < len(m) && m[2*n] >= 0 && m[2*n+1] >= 0 {
				out = append(out, src[m[2*n]:m[2*n+1]]...)
			}
		case c == 'x':
			if i+2 >= len(str) {
				return nil, false
			}
			out = append(out, hexNibble(str[i+1])<<4+hexNibble(str[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
		if len(out) >= bufSize {
			return nil, false
		}
	}
	if len(out) >= bufSize {
		return nil, false
	}
	return out, true
}

// hexNibble is exp_replace's reading of a hex digit (any byte: HAProxy
// does not check it).
func hexNibble(c byte) byte {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	c -= '0'
	if c > 9 {
		c -= 'A' - '9' - 1
	}
	return c
}

// matchWord is HAProxy's match_word(): the pattern (without its own
// leading and trailing delimiters) appears in b between delimiters or
// the ends of b.
func matchWord(b, pat []byte, delim byte) bool {
	pat = bytes.TrimRight(bytes.TrimLeft(pat, string(delim)), string(delim))
	if len(pat) == 0 {
		return false
	}
	for i := 0; i+len(pat) <= len(b); i++ {
		if (i == 0 || b[i-1] == delim) && bytes.Equal(b[i:i+len(pat)], pat) &&
			(i+len(pat) == len(b) || b[i+len(pat)] == delim) {
			return true
		}
	}
	return false
}

// Entries returns the entries of the current version in order.
func (m *MapRef) Entries() []MapEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entriesOf(m.curVer)
}

// VersionEntries returns the entries of version ver in order.
func (m *MapRef) VersionEntries(ver uint32) []MapEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entriesOf(ver)
}

func (m *MapRef) entriesOf(ver uint32) []MapEntry {
	var out []MapEntry
	for _, e := range m.entries {
		if e.ver == ver {
			out = append(out, MapEntry{Ref: fmt.Sprintf("%#x", e.ref), Key: e.key, Value: e.value})
		}
	}
	return out
}

// Versions returns the current version and the last one prepared.
func (m *MapRef) Versions() (cur, next uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.curVer, m.nextVer
}

// Prepare reserves a new version (prepare map) and returns it.
func (m *MapRef) Prepare() uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextVer++
	return m.nextVer
}

// ErrMapVersionRange is a commit of a version that was not prepared.
var ErrMapVersionRange = errors.New("map: version out of range")

// ErrMapVersionFuture is an addition to a version not yet prepared.
var ErrMapVersionFuture = errors.New("map: version in the future")

// Commit makes version ver the current one and drops the entries of the
// versions before it (commit map), as HAProxy's generations: a version
// after the current one and not after the last prepared, or the current.
func (m *MapRef) Commit(ver uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ver-(m.curVer+1) >= m.nextVer-m.curVer {
		return ErrMapVersionRange
	}
	if int32(ver-m.curVer) > 0 {
		m.curVer = ver
	}
	// The versions from ver-2^31 to ver-1 are older: their entries go.
	m.purge(func(v uint32) bool { return ver-1-v <= 1<<31-1 })
	m.rebuild()
	return nil
}

// purge drops the entries whose version old says is to go; entry_cnt
// counts each once, as HAProxy's.
func (m *MapRef) purge(old func(uint32) bool) {
	kept := m.entries[:0:0]
	for _, e := range m.entries {
		if !old(e.ver) {
			kept = append(kept, e)
		}
	}
	m.count -= len(m.entries) - len(kept)
	m.entries = kept
}

// EntryCount is HAProxy's entry_cnt: the entries of every pattern set.
func (m *MapRef) EntryCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count
}

// check validates a key and a value for every pattern set.
func (m *MapRef) check(key, value string, checkKey bool) error {
	for _, s := range m.sets {
		if s.out != "" {
			if msg := parser.MapValueError(s.out, value); msg != "" {
				return &MapInputError{Msg: msg}
			}
		}
		if checkKey {
			if msg := parser.MapKeyError(s.match, key); msg != "" {
				return &MapInputError{Msg: msg}
			}
		}
	}
	return nil
}

// Add appends an entry to the current version (add map).
func (m *MapRef) Add(key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.add(m.curVer, key, value)
}

// AddVersion appends an entry to version ver (add map @<ver>), which must
// be prepared already.
func (m *MapRef) AddVersion(ver uint32, key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if int32(ver-m.nextVer) > 0 {
		return ErrMapVersionFuture
	}
	return m.add(ver, key, value)
}

func (m *MapRef) add(ver uint32, key, value string) error {
	if err := m.check(key, value, true); err != nil {
		// HAProxy 2.6 counts the entry it failed to add as one removed.
		m.count--
		return err
	}
	m.entries = append(m.entries, mapEntry{ref: m.nextRef(), key: key, value: value, ver: ver})
	m.count += max(len(m.sets), 1)
	if ver == m.curVer {
		m.rebuild()
	}
	return nil
}

// matchEntry reports whether e is what "#<ref>" or a key designates.
func matchEntry(e *mapEntry, sel string) bool {
	if strings.HasPrefix(sel, "#") {
		h := strings.TrimPrefix(strings.TrimPrefix(sel[1:], "0x"), "0X")
		ref, err := strconv.ParseUint(h, 16, 64)
		return err == nil && e.ref == ref
	}
	return e.key == sel
}

// Set changes the value of every entry of a key, or of one "#<ref>" (set
// map). As HAProxy 2.6, a value that does not parse changes nothing and
// is no error.
func (m *MapRef) Set(sel, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := false
	for i := range m.entries {
		if matchEntry(&m.entries[i], sel) {
			found = true
		}
	}
	if !found {
		return ErrMapNoEntry
	}
	if m.check("", value, false) != nil {
		return nil
	}
	for i := range m.entries {
		if matchEntry(&m.entries[i], sel) {
			m.entries[i].value = value
		}
	}
	m.rebuild()
	return nil
}

// Del removes every entry of a key, or one "#<ref>" (del map).
func (m *MapRef) Del(sel string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.entries[:0:0]
	for _, e := range m.entries {
		if !matchEntry(&e, sel) {
			kept = append(kept, e)
		}
	}
	if len(kept) == len(m.entries) {
		return ErrMapNoEntry
	}
	m.count -= len(m.entries) - len(kept)
	m.entries = kept
	m.rebuild()
	return nil
}

// Clear removes the entries of the current version (clear map).
func (m *MapRef) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clear(m.curVer)
}

// ClearVersion removes the entries of version ver (clear map @<ver>).
func (m *MapRef) ClearVersion(ver uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clear(ver)
}

func (m *MapRef) clear(ver uint32) {
	m.purge(func(v uint32) bool { return v == ver })
	if ver == m.curVer {
		m.rebuild()
	}
}

// *compileEnv finds the run-time map of a parsed map file.
// compileEnv is what compiling rules needs of the graph being built: the
// map files by their model, the stick tables by name. A nil env has none.
type compileEnv struct {
	files  map[*parser.MapFile]*MapRef
	tables map[string]*stktable.Table
}

// mapRef is the loaded map of a file, nil when none.
func (env *compileEnv) mapRef(f *parser.MapFile) *MapRef {
	if env == nil {
		return nil
	}
	return env.files[f]
}

// table is the stick table of a proxy, nil when none.
func (env *compileEnv) table(name string) *stktable.Table {
	if env == nil {
		return nil
	}
	return env.tables[name]
}

// convMatch is the default matching method of an ACL whose last
// converter is c: the one of its output type.
func convMatch(c parser.Converter) string {
	switch c.Name {
	case "bytes":
		return "bin"
	case "ipmask":
		return "ip"
	case "lower", "upper", "hex":
		return "str"
	}
	if parser.StickConverters[c.Name] {
		return "int"
	}
	return c.MapOut
}

// buildMaps makes the run-time maps of a configuration, by parsed file.
func buildMaps(files []*parser.MapFile) ([]*MapRef, map[*parser.MapFile]*MapRef) {
	list := make([]*MapRef, 0, len(files))
	by := make(map[*parser.MapFile]*MapRef, len(files))
	for _, f := range files {
		r := NewMapRef(f)
		list = append(list, r)
		by[f] = r
	}
	return list, by
}

// Maps returns the map files, by id.
func (g *Graph) Maps() []*MapRef { return g.maps }

// Map returns the map a runtime API command names: "#<id>" or its file;
// nil when there is none.
func (g *Graph) Map(name string) *MapRef {
	if strings.HasPrefix(name, "#") {
		id, err := strconv.ParseUint(name[1:]+strings.Repeat("0", btoi(name == "#")), 10, 31)
		if err != nil {
			return nil
		}
		for _, m := range g.maps {
			if m.ID == int(id) {
				return m
			}
		}
		return nil
	}
	for _, m := range g.maps {
		if m.File == name {
			return m
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
