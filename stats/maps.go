package stats

import (
	"errors"
	"fmt"
	"strings"

	"goproxy/proxy"
)

// Maps is what the map commands (show/add/set/del/clear map) reach: the
// map files of the running process. *proxy.Graph satisfies it.
type Maps interface {
	Maps() []*proxy.MapRef
	Map(name string) *proxy.MapRef
}

const unknownMap = "Unknown map identifier. Please use #<id> or <file>.\n"

func init() {
	add := func(kw string, h handler) {
		commandTable = append(commandTable, command{words: strings.Fields(kw), level: LevelUser, run: h})
	}
	// HAProxy 2.6 runs the map commands at every level.
	add("add map", cmdAddMap)
	add("set map", cmdSetMap)
	add("del map", cmdDelMap)
	add("clear map", cmdClearMap)
	add("prepare map", cmdPrepareMap)
	add("commit map", cmdCommitMap)
}

// mapArg returns the map named by args[i], skipping a "@<ver>" before it,
// and that version (ok false without one).
func (s *session) mapArg(args []string, i int) (m *proxy.MapRef, name string, at int, ver uint32, ok bool) {
	if v, found := strings.CutPrefix(argAt(args, i), "@"); found {
		ver, ok = str2uic(v), true
		i++
	}
	name = argAt(args, i)
	if s.srv.Maps == nil {
		return nil, name, i, ver, ok
	}
	return s.srv.Maps.Map(name), name, i, ver, ok
}

// str2uic is HAProxy's str2uic(): the leading decimal digits as an
// unsigned 32-bit number (0 without any), wrapping as C does.
func str2uic(s string) uint32 {
	var n uint32
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + uint32(s[i]-'0')
	}
	return n
}

func cmdShowMap(s *session, args []string) string {
	if len(args) == 2 {
		var b strings.Builder
		b.WriteString("# id (file) description\n")
		if s.srv.Maps != nil {
			for _, m := range s.srv.Maps.Maps() {
				cur, next := m.Versions()
				fmt.Fprintf(&b, "%d (%s) %s. curr_ver=%d next_ver=%d entry_cnt=%d\n", m.ID, m.File, m.Desc, cur, next, m.EntryCount())
			}
		}
		return b.String()
	}
	m, _, _, ver, hasVer := s.mapArg(args, 2)
	if m == nil {
		return unknownMap
	}
	entries := m.Entries()
	if hasVer {
		entries = m.VersionEntries(ver)
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s %s\n", e.Ref, e.Key, e.Value)
	}
	return b.String()
}

func cmdAddMap(s *session, args []string) string {
	m, _, i, ver, hasVer := s.mapArg(args, 2)
	if (s.payload == "" && len(args) < i+3) || (s.payload != "" && len(args) < i+1) {
		return "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n"
	}
	if m == nil {
		return unknownMap
	}
	if _, next := m.Versions(); hasVer && int32(ver-next) > 0 {
		return "Version number in the future, please use 'prepare map' before.\n"
	} else if !hasVer {
		ver, _ = m.Versions()
	}
	pairs, msg := [][2]string{{argAt(args, i+1), argAt(args, i+2)}}, ""
	if s.payload != "" {
		pairs, msg = payloadPairs(s.payload)
	}
	for _, kv := range pairs {
		if err := m.AddVersion(ver, kv[0], kv[1]); err != nil {
			return mapErrorText(err)
		}
	}
	return msg
}

// payloadPairs splits an add map payload into its pairs as HAProxy 2.6
// reads it: a key runs to the next space or tab (a line without one runs
// into the next line), its value from the next non-blank to the end of
// the line. A key with no value after it stops there with HAProxy's
// message (the pairs before it are added).
func payloadPairs(payload string) ([][2]string, string) {
	var out [][2]string
	payload = strings.TrimSuffix(payload, "\n") // HAProxy's payload has no final newline
	for payload != "" {
		l := strings.IndexAny(payload, " \t")
		if l < 0 {
			return out, fmt.Sprintf("Missing value for key '%s'.\n", payload)
		}
		key := payload[:l]
		rest := strings.TrimLeft(payload[l+1:], " \t")
		value, next, _ := strings.Cut(rest, "\n")
		out = append(out, [2]string{key, value})
		payload = next
	}
	return out, ""
}

func cmdPrepareMap(s *session, args []string) string {
	m, _, _, _, _ := s.mapArg(args, 2)
	if m == nil {
		return unknownMap
	}
	return fmt.Sprintf("New version created: %d\n", m.Prepare())
}

func cmdCommitMap(s *session, args []string) string {
	v, ok := strings.CutPrefix(argAt(args, 2), "@")
	if !ok {
		return "Missing version number.\n"
	}
	if argAt(args, 3) == "" {
		return "Missing map identifier.\n"
	}
	m, _, _, _, _ := s.mapArg(args, 3)
	if m == nil {
		return unknownMap
	}
	if err := m.Commit(str2uic(v)); err != nil {
		return "Version number out of range.\n"
	}
	return ""
}

func cmdSetMap(s *session, args []string) string {
	if len(args) < 5 {
		return "'set map' expects three parameters: map identifier, key and value.\n"
	}
	m, _, _, _, _ := s.mapArg(args, 2)
	if m == nil {
		return unknownMap
	}
	err := m.Set(args[3], args[4])
	switch {
	case errors.Is(err, proxy.ErrMapNoEntry) && strings.HasPrefix(args[3], "#"):
		return "key or pattern not found.\n"
	case errors.Is(err, proxy.ErrMapNoEntry):
		return "entry not found.\n"
	case err != nil:
		return mapErrorText(err)
	}
	return ""
}

func cmdDelMap(s *session, args []string) string {
	if len(args) < 4 {
		return "This command expects two parameters: map identifier and key.\n"
	}
	m, _, _, _, _ := s.mapArg(args, 2)
	if m == nil {
		return unknownMap
	}
	if err := m.Del(args[3]); err != nil {
		if errors.Is(err, proxy.ErrMapNoEntry) {
			return "Key not found.\n"
		}
		return mapErrorText(err)
	}
	return ""
}

func cmdClearMap(s *session, args []string) string {
	if len(args) < 3 {
		return "Missing map identifier.\n"
	}
	m, _, _, ver, hasVer := s.mapArg(args, 2)
	if m == nil {
		return unknownMap
	}
	if hasVer {
		m.ClearVersion(ver)
		return ""
	}
	m.Clear()
	return ""
}

// mapErrorText words a map error: a key or value that does not parse is
// HAProxy's message with a period.
func mapErrorText(err error) string {
	var in *proxy.MapInputError
	if errors.As(err, &in) {
		return in.Msg + ".\n"
	}
	return err.Error() + "\n"
}
