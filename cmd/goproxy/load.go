package main

import "goproxy/parser"

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
