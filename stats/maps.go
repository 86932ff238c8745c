package stats

import (
	"errors"
	"fmt"
	"strconv"
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
}

// mapArg returns the map named by args[i], skipping a "@<ver>" before it
// (goproxy keeps one version, 0).
func (s *session) mapArg(args []string, i int) (*proxy.MapRef, string, int) {
	if strings.HasPrefix(argAt(args, i), "@") {
		i++
	}
	name := argAt(args, i)
	if s.srv.Maps == nil {
		return nil, name, i
	}
	return s.srv.Maps.Map(name), name, i
}

func cmdShowMap(s *session, args []string) string {
	if len(args) == 2 {
		var b strings.Builder
		b.WriteString("# id (file) description\n")
		if s.srv.Maps != nil {
			for _, m := range s.srv.Maps.Maps() {
				fmt.Fprintf(&b, "%d (%s) %s. curr_ver=0 next_ver=0 entry_cnt=%d\n", m.ID, m.File, m.Desc, m.EntryCount())
			}
		}
		return b.String()
	}
	ver := strings.HasPrefix(args[2], "@")
	m, _, _ := s.mapArg(args, 2)
	if m == nil {
		return unknownMap
	}
	if ver && args[2] != "@0" {
		return "" // no entry in another version
	}
	var b strings.Builder
	for _, e := range m.Entries() {
		fmt.Fprintf(&b, "%s %s %s\n", e.Ref, e.Key, e.Value)
	}
	return b.String()
}

func cmdAddMap(s *session, args []string) string {
	m, name, i := s.mapArg(args, 2)
	if len(args) < i+3 {
		return "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n"
	}
	if m == nil {
		_ = name
		return unknownMap
	}
	if err := m.Add(args[i+1], args[i+2]); err != nil {
		return mapErrorText(err)
	}
	return ""
}

func cmdSetMap(s *session, args []string) string {
	if len(args) < 5 {
		return "'set map' expects three parameters: map identifier, key and value.\n"
	}
	m, _, _ := s.mapArg(args, 2)
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
	m, _, _ := s.mapArg(args, 2)
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
	m, _, _ := s.mapArg(args, 2)
	if m == nil {
		return unknownMap
	}
	if v := argAt(args, 2); strings.HasPrefix(v, "@") {
		if n, err := strconv.Atoi(v[1:]); err != nil || n != 0 {
			return "" // another version holds nothing
		}
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
