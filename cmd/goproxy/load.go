package main

import (
	"os"

	"goproxy/parser"
)

// loadOptionsFor maps the command line to the parser's options.
func loadOptionsFor(o *options) parser.Options {
	return parser.Options{
		Features:     FeatureList(),
		Diag:         o.diag,
		SkipResolve:  o.resolveDontFail,
		LocalPeer:    localPeerOf(o),
		LocalPeerSet: o.localPeer != "",
	}
}

// localPeerOf is the local peer name: -L, else the host name.
func localPeerOf(o *options) string {
	if o.localPeer != "" {
		return o.localPeer
	}
	h, _ := os.Hostname()
	return h
}

// seams are the two steps of the program that tests replace: reading and
// validating the configuration files, and turning a configuration into a
// running runtime. main passes productionSeams; the test binary, acting as
// goproxy, passes a fake build.
type seams struct {
	loadConfig func(files []string, o parser.Options) (*parser.Config, error)
	build      func(cfg *parser.Config, o buildOptions) (graph, error)
}

// productionSeams are the real parser and runtime.
func productionSeams() seams {
	return seams{loadConfig: parser.LoadFiles, build: buildRuntime}
}

// setStartupEnv sets the variables HAProxy defines before reading its
// configuration, so that "${HAPROXY_LOCALPEER}" and the like expand the
// same: the local peer name (-L, else the host name) and the version.
func setStartupEnv(o *options) {
	os.Setenv("HAPROXY_LOCALPEER", localPeerOf(o))
	os.Setenv("HAPROXY_STARTUP_VERSION", version)
}
