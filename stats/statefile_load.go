package stats

import (
	"errors"
	"io/fs"
	"net/netip"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"

	"goproxy/internal/cnum"
	"goproxy/parser"
)

// maxStatePath is HAProxy's MAXPATHLEN for state file paths.
const maxStatePath = 4096

// LoadServerState restores the servers' state saved by the previous
// process, as HAProxy does at start (apply_server_state). Call it once the
// runtime is built, before it accepts connections.
//
// Each backend (not disabled, with servers) reads what its
// load-server-state-from-file says: "global" the global server-state-file,
// "local" its own file (server-state-file-name, or the backend's name),
// "none" or unset nothing. Relative names are taken under
// server-state-base, or the current directory. Entries match servers by
// backend and server name; a local file's lines must also carry the
// backend's id or name (an id mismatch is warned about, a name mismatch
// skips the line). What is applied, and how, is ApplyServerState's rule.
//
// Nothing here is fatal: a missing, unreadable, empty or unversioned file,
// a malformed line (the whole file is then ignored), invalid values and unknown
// servers are logged as warnings with HAProxy's words, and the servers
// keep their configured state. With a nil src the files are read and
// checked but nothing is applied (configuration check mode). It returns
// the number of servers whose saved state was applied.
func LoadServerState(cfg *parser.Config, src Source, log logrus.FieldLogger) int {
	if cfg == nil {
		return 0
	}
	if log == nil {
		nl := logrus.New()
		nl.Out = nilWriter{}
		log = nl
	}
	base := cfg.Global.ServerStateBase

	// The global file is read whether or not a backend uses it, as HAProxy
	// does; the first line for a backend/server wins.
	var global map[string]*StateEntry
	if name := cfg.Global.ServerStateFile; name != "" {
		path, ok := statePath(base, name)
		if !ok {
			log.Warn("config: Can't load global server state file: file too long.")
		} else if sf := readStateFile(path, log, "config: ", "global server state file"); sf != nil {
			global = map[string]*StateEntry{}
			for i := range sf.Entries {
				e := &sf.Entries[i]
				key := e.Backend + " " + e.Server
				if _, dup := global[key]; dup {
					log.Warnf("%s:%d: duplicate entry for server '%s/%s' ignored", sf.Name, e.Line, e.Backend, e.Server)
					continue
				}
				global[key] = e
			}
		}
	}

	var rows map[string]*Row // by "backend/server"
	var admin Admin
	if src != nil {
		all := src.Stats()
		rows = make(map[string]*Row, len(all))
		for i := range all {
			if all[i].Type == TypeServer {
				rows[all[i].Proxy+"/"+all[i].Name] = &all[i]
			}
		}
		admin = src.Admin()
	}
	applied := 0
	for _, px := range cfg.Proxies {
		if px.Cap&parser.CapBackend == 0 || px.Disabled || len(px.Servers) == 0 {
			continue
		}
		var entries map[string]*StateEntry
		switch px.LoadServerState {
		case "global":
			if global == nil {
				continue
			}
			entries = map[string]*StateEntry{}
			for _, s := range px.Servers {
				if e, ok := global[px.Name+" "+s.Name]; ok {
					entries[s.Name] = e
				}
			}
		case "local":
			entries = localEntries(px, base, log)
			if entries == nil {
				continue
			}
		default:
			continue
		}
		for _, s := range px.Servers {
			e, ok := entries[s.Name]
			if !ok {
				continue
			}
			delete(entries, s.Name)
			if src == nil {
				if _, msg := parseSavedState(e); msg != "" {
					log.Warnf("server-state application failed for server '%s/%s'%s", px.Name, s.Name, msg)
				}
				continue
			}
			r := rows[px.Name+"/"+s.Name]
			if r == nil {
				log.Warnf("server-state: server '%s/%s' is not running, state not applied", px.Name, s.Name)
				continue
			}
			t := ServerStateTarget{Row: *r, LastAddr: usesLastAddr(s)}
			if ApplyServerState(admin, t, e, log.WithFields(logrus.Fields{"backend": px.Name, "server": s.Name})) {
				applied++
			}
		}
		if px.LoadServerState == "local" {
			for _, e := range sortedEntries(entries) {
				log.Warnf("Proxy '%s': can't find server '%s' in backend '%s'", px.Name, e.Server, px.Name)
			}
		}
	}
	return applied
}

// localEntries reads the local state file of px and keeps the lines that
// belong to it, keyed by server name; nil when the file cannot be used.
func localEntries(px *parser.Proxy, base string, log logrus.FieldLogger) map[string]*StateEntry {
	name := px.ServerStateFileName
	if name == "" {
		name = px.Name
	}
	path, ok := statePath(base, name)
	if !ok {
		log.Warnf("Proxy '%s': Can't load local server state file: file too long.", px.Name)
		return nil
	}
	prefix := "Proxy '" + px.Name + "': "
	sf := readStateFile(path, log, prefix, "server state file")
	if sf == nil {
		return nil
	}
	entries := map[string]*StateEntry{}
	for i := range sf.Entries {
		e := &sf.Entries[i]
		id, _, _ := cnum.Strtol(e.BackendID)
		idOK := id == int64(px.ID)
		nameOK := e.Backend == px.Name
		switch {
		case !idOK && !nameOK:
			continue // another backend's line
		case !idOK:
			log.Warnf("Proxy '%s': backend ID mismatch: from server state file: '%s', from running config '%d'", px.Name, e.BackendID, px.ID)
		case !nameOK:
			// HAProxy would keep the line if the backend id had been
			// forced; goproxy does not support forced proxy ids.
			log.Warnf("Proxy '%s': backend name mismatch: from server state file: '%s', from running config '%s'", px.Name, e.Backend, px.Name)
			continue
		}
		if _, dup := entries[e.Server]; dup {
			log.Warnf("%s:%d: duplicate entry for server '%s/%s' ignored", sf.Name, e.Line, px.Name, e.Server)
			continue
		}
		entries[e.Server] = e
	}
	return entries
}

// readStateFile reads and parses path, logging HAProxy's messages; nil when
// the file cannot be used.
func readStateFile(path string, log logrus.FieldLogger, prefix, what string) *StateFile {
	sf, err := ReadStateFile(path)
	var pe *fs.PathError
	switch {
	case err == nil:
	case errors.As(err, &pe):
		suffix := ""
		if prefix != "config: " {
			suffix = "."
		}
		log.Warnf("%sCan't open %s '%s': %s%s", prefix, what, path, strerror(pe.Err), suffix)
		return nil
	case errors.Is(err, ErrStateVersion):
		log.Warnf("%sCan't get version of the %s '%s'.", prefix, what, path)
		return nil
	default:
		log.Warnf("%sCan't load %s '%s': %v", prefix, what, path, err)
		return nil
	}
	// As HAProxy, one malformed line makes the whole file unusable; its
	// line numbers start after the version line.
	if len(sf.Errors) > 0 {
		log.Warnf("%scorrupted %s '%s' at line %d.", prefix, what, path, sf.Errors[0].Line-1)
		return nil
	}
	return sf
}

// strerror renders an errno as C's strerror does ("No such file or
// directory").
func strerror(err error) string {
	msg := err.Error()
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

// statePath joins a state file name to server-state-base as HAProxy does;
// false when the result is too long.
func statePath(base, name string) (string, bool) {
	path := name
	if !strings.HasPrefix(name, "/") && base != "" {
		sep := "/"
		if strings.HasSuffix(base, "/") {
			sep = ""
		}
		path = base + sep + name
	}
	return path, len(path) < maxStatePath
}

// usesLastAddr tells whether the saved address replaces the configured one:
// a server written with a host name whose init-addr tries "last" first
// (HAProxy's default is "last,libc").
func usesLastAddr(s *parser.Server) bool {
	if s.Unresolved || (len(s.InitAddr) > 0 && s.InitAddr[0] != "last") {
		return false
	}
	return isHostName(s.Addr.Text)
}

// isHostName tells whether a server address as written names a host rather
// than an IP literal.
func isHostName(text string) bool {
	if at := strings.IndexByte(text, '@'); at >= 0 {
		text = text[at+1:]
	}
	if text == "" || text[0] == '[' || text[0] == ':' {
		return false
	}
	host := text
	if strings.Count(text, ":") == 1 {
		host = text[:strings.IndexByte(text, ':')]
	} else if strings.Count(text, ":") > 1 {
		return false // IPv6 literal
	}
	if host == "" || host == "*" {
		return false
	}
	_, err := netip.ParseAddr(host)
	return err != nil
}

// sortedEntries returns the entries in file order.
func sortedEntries(m map[string]*StateEntry) []*StateEntry {
	out := make([]*StateEntry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}
