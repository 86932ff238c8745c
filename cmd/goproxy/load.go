package main

import (
	"os"

	"goproxy/parser"
)

// loadOptionsFor maps the command line to the parser's options.
func loadOptionsFor(o *options) parser.Options {
	return parser.Options{
		Features:    FeatureList(),
		Diag:        o.diag,
		SkipResolve: o.resolveDontFail,
	}
}

// loadConfig reads and validates the configuration files. It is a variable
// so that tests can substitute it.
var loadConfig = parser.LoadFiles

// setStartupEnv sets the variables HAProxy defines before reading its
// configuration, so that "${HAPROXY_LOCALPEER}" and the like expand the
// same: the local peer name (-L, else the host name) and the version.
func setStartupEnv(o *options) {
	peer := o.localPeer
	if peer == "" {
		peer, _ = os.Hostname()
	}
	os.Setenv("HAPROXY_LOCALPEER", peer)
	os.Setenv("HAPROXY_STARTUP_VERSION", version)
}
