package stats

import (
	"errors"
	"strings"

	"goproxy/parser"
	"goproxy/proxy"
)

// "add server" and "del server": servers created and removed at run time,
// as HAProxy 2.6's dynamic servers. HAProxy answers these two commands in
// two ways: the short refusals (cli_err) carry no newline of their own, so
// the answer ends with the one empty line the session adds; the parser's
// messages and "New server registered." (its user messages) end with
// their own newline before that empty line.

// DynamicServers is the part of Admin behind "add server" and "del
// server". An error's text is the answer, as HAProxy words it.
type DynamicServers interface {
	// AddServer adds a server to backend: words are <name> <addr>
	// [options] of the command.
	AddServer(backend string, words []string) error
	// DeleteServer removes the server of backend.
	DeleteServer(backend, server string) error
}

// Answers of the two commands, in HAProxy's words.
const (
	ansRequireBackendServer = "Require 'backend/server'."
	ansNoSuchBackend        = "No such backend."
	ansNoSuchServer         = "No such server."
	ansServerRegistered     = "New server registered.\n"
	ansServerDeleted        = "Server deleted."
)

// dynAnswers maps the runtime's typed errors of AddServer and
// DeleteServer to HAProxy's answers.
var dynAnswers = []struct {
	err    error
	answer string
}{
	{proxy.ErrStaticLB, "Backend must use a dynamic load balancing to support dynamic servers."},
	{proxy.ErrServerExists, "Already exists a server with the same name in backend.\n"},
	{proxy.ErrNoServer, ansNoSuchServer},
	{proxy.ErrServerPinned, "This server cannot be removed at runtime due to other configuration elements pointing to it."},
	{proxy.ErrServerNotMaint, "Only servers in maintenance mode can be deleted."},
	{proxy.ErrServerBusy, "Server still has connections attached to it, cannot remove it."},
}

func dynAnswer(err error) string {
	for _, a := range dynAnswers {
		if errors.Is(err, a.err) {
			return a.answer
		}
	}
	return err.Error()
}

// splitBackendServer splits "<backend>/<server>" as HAProxy's add/del
// server do: the separator is the first '/' after the first character, and
// both parts must be there.
func splitBackendServer(arg string) (be, srv string, ok bool) {
	if len(arg) < 2 {
		return "", "", false
	}
	i := strings.IndexByte(arg[1:], '/')
	if i < 0 || i+2 >= len(arg) {
		return "", "", false
	}
	return arg[:i+1], arg[i+2:], true
}

func (s *session) dynServers() (DynamicServers, bool) {
	d, ok := s.admin().(DynamicServers)
	return d, ok
}

func cmdAddServer(s *session, args []string) string {
	be, sv, ok := splitBackendServer(argAt(args, 2))
	if !ok {
		return ansRequireBackendServer
	}
	d, ok := s.dynServers()
	if !ok {
		return notSupported
	}
	words := append([]string{sv}, args[min(3, len(args)):]...)
	if err := d.AddServer(be, words); err != nil {
		return dynAnswer(err)
	}
	return ansServerRegistered
}

func cmdDelServer(s *session, args []string) string {
	be, sv, ok := splitBackendServer(argAt(args, 2))
	if !ok {
		return ansRequireBackendServer
	}
	d, ok := s.dynServers()
	if !ok {
		return notSupported
	}
	if err := d.DeleteServer(be, sv); err != nil {
		return dynAnswer(err)
	}
	return ansServerDeleted
}

// errAnswer is an answer sent as is.
type errAnswer string

func (e errAnswer) Error() string { return string(e) }

// AddServer parses the server as HAProxy's "add server" does and adds it
// to the running backend.
func (a *proxyAdmin) AddServer(backend string, words []string) error {
	b := a.g.Backend(backend)
	if b == nil {
		return errAnswer(ansNoSuchBackend)
	}
	if !b.DynamicLB() {
		return proxy.ErrStaticLB
	}
	cur := b.ServerList()
	known := make([]*parser.Server, len(cur))
	for i, s := range cur {
		known[i] = &parser.Server{Pos: s.Pos, Name: s.Name}
		known[i].ID = s.ID
	}
	ps, msg := parser.ParseDynamicServer(a.cfg, b.Config, known, words)
	if msg != "" {
		return errAnswer(msg)
	}
	s, err := b.AddServer(ps)
	if err != nil {
		var typed bool
		for _, x := range dynAnswers {
			typed = typed || errors.Is(err, x.err)
		}
		if !typed {
			return errAnswer(err.Error() + "\n")
		}
		return err
	}
	a.log.WithField("server", backend+"/"+s.Name).Info("New server registered.")
	return nil
}

// DeleteServer removes a server in maintenance with no session.
func (a *proxyAdmin) DeleteServer(backend, server string) error {
	b := a.g.Backend(backend)
	if b == nil {
		return errAnswer(ansNoSuchBackend)
	}
	if _, err := b.DeleteServer(server); err != nil {
		return err
	}
	a.log.WithField("server", backend+"/"+server).Info("Server deleted.")
	return nil
}
