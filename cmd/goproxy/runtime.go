package main

import (
	"os"

	"github.com/sirupsen/logrus"

	"goproxy/parser"
	"goproxy/proxy"
)

// graph is what the process lifecycle needs of a running configuration
// (*proxy.Graph satisfies it).
type graph interface {
	// Start binds every listener and starts serving. On error nothing is
	// left bound, and Start may be called again.
	Start() error
	// StopListening closes the listeners; established sessions go on.
	StopListening()
	// Pause stops accepting without closing the listeners (SIGTTOU).
	Pause()
	// Resume accepts again after Pause (SIGTTIN).
	Resume()
	// Close closes the listeners and every session.
	Close()
	// Done is closed once the graph has stopped listening and its last
	// session has ended.
	Done() <-chan struct{}
	// ListenerFiles returns dups of the listening sockets, for handoff.
	ListenerFiles() []*os.File
}

// buildOptions mirror proxy.Options.
type buildOptions struct {
	Log            logrus.FieldLogger
	InheritedFDs   map[int]*os.File // fd@N binds handed down by a parent
	DefaultMaxConn int              // -N; 0 means the global maxconn
}

// build turns a configuration into a graph. It is a variable so that tests
// can substitute a fake; it is wired to proxy.Build.
var build = func(cfg *parser.Config, o buildOptions) (graph, error) {
	g, err := proxy.Build(cfg, proxy.Options{Log: o.Log, InheritedFDs: o.InheritedFDs, DefaultMaxConn: o.DefaultMaxConn})
	if err != nil {
		return nil, err // no typed nil in the interface
	}
	return g, nil
}
