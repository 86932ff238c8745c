package main

import (
	"fmt"
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
	return seams{loadConfig: loadAndApplyEnv, build: buildRuntime}
}

// loadAndApplyEnv reads the configuration, then applies its environment
// directives to the process (its programs and external commands inherit
// them), as HAProxy's act on its own environment.
func loadAndApplyEnv(files []string, o parser.Options) (*parser.Config, error) {
	cfg, err := parser.LoadFiles(files, o)
	if err != nil {
		return cfg, err
	}
	if err := parser.ApplyEnv(cfg.Global.Env); err != nil {
		return cfg, fmt.Errorf("applying the environment directives: %w", err)
	}
	return cfg, nil
}

// setStartupEnv sets the variables HAProxy defines before reading its
// configuration, so that "${HAPROXY_LOCALPEER}" and the like expand the
// same: the local peer name (-L, else the host name) and the version.
func setStartupEnv(o *options) {
	os.Setenv("HAPROXY_LOCALPEER", localPeerOf(o))
	os.Setenv("HAPROXY_STARTUP_VERSION", version)
}
