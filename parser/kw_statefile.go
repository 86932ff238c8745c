package parser

// Server state files: which file a backend reads at start to restore the
// servers' state saved from the previous process ("show servers state").

func (p *parser) globalServerStateFile(w []string, _ kwMod) {
	g := &p.cfg.Global
	if g.ServerStateFile != "" {
		p.nonFatalAlert("'%s' already specified. Continuing.", w[0])
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expect one argument: a file path.", w[0])
		return
	}
	g.ServerStateFile = w[1]
}

func (p *parser) globalServerStateBase(w []string, _ kwMod) {
	g := &p.cfg.Global
	if g.ServerStateBase != "" {
		p.nonFatalAlert("'%s' already specified. Continuing.", w[0])
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects one argument: a directory path.", w[0])
		return
	}
	g.ServerStateBase = w[1]
}

// kwLoadServerState parses "load-server-state-from-file global|local|none";
// HAProxy ignores extra arguments.
func (p *parser) kwLoadServerState(px *Proxy, w []string, _ kwMod) {
	switch v := argAt(w, 1); v {
	case "global", "local", "none":
		px.LoadServerState = v
	default:
		p.alert("'%s' expects 'global', 'local' or 'none'. Got '%s'", w[0], v)
	}
}

// kwServerStateFileName parses "server-state-file-name [use-backend-name|<file>]".
// Without a file name (or with use-backend-name) the backend's name is used.
// HAProxy accepts it in defaults sections but does not pass it on.
func (p *parser) kwServerStateFileName(px *Proxy, w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if px.Cap&CapDefaults != 0 {
		return
	}
	switch v := argAt(w, 1); v {
	case "", "use-backend-name":
		px.ServerStateFileName = ""
	default:
		px.ServerStateFileName = v
	}
}

// checkServerStateFile is the post-parse warning of a proxy that asks for
// the global state file when none is set.
func (p *parser) checkServerStateFile(px *Proxy) {
	if px.LoadServerState == "global" && p.cfg.Global.ServerStateFile == "" {
		// HAProxy says "backend" whatever the proxy is.
		p.checkWarn("backend '%s' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!", px.Name)
	}
}
