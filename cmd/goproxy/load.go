package main

import (
	"errors"

	"goproxy/parser"
)

// loadOptions are the command-line settings that change how the
// configuration is read.
type loadOptions struct {
	Features        []string // names usable in .if feature(NAME)
	ResolveDontFail bool     // -dr
	Diag            bool     // -dD
	LocalPeer       string   // -L
	MaxConn         int      // -n
	MaxPConn        int      // -N
}

func loadOptionsFor(o *options) loadOptions {
	return loadOptions{
		Features:        FeatureNames(),
		ResolveDontFail: o.resolveDontFail,
		Diag:            o.diag,
		LocalPeer:       o.localPeer,
		MaxConn:         o.maxConn,
		MaxPConn:        o.maxPConn,
	}
}

// errNoParser is returned while the configuration parser is not linked in.
var errNoParser = errors.New("this goproxy binary was built without the configuration parser (parser.LoadFiles)")

// loadConfig reads and validates the configuration files. It is a variable
// so that tests can substitute it; it is wired to parser.LoadFiles.
var loadConfig = func(paths []string, o loadOptions) (*parser.Config, error) {
	return nil, errNoParser
}
