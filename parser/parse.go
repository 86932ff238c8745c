package parser

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-multierror"

	"goproxy/internal/hatext"
)

// Options tunes loading.
type Options struct {
	// Env looks environment variables up; nil means os.LookupEnv.
	Env func(name string) (string, bool)
	// Features lists the build features as "-vv" prints them ("+EPOLL",
	// "-OPENSSL", ...), for .if feature(NAME).
	Features []string
	// Diag enables .diag messages (-dD).
	Diag bool
	// SkipResolve keeps server host names that do not resolve (-dr).
	SkipResolve bool
	// LookupHost resolves host names of bind and server lines; nil means
	// the system resolver with a timeout.
	LookupHost func(host string) ([]string, error)
	// LocalPeer is the local peer's name (-L, else the host name);
	// LocalPeerSet tells it came from -L, which the global localpeer
	// cannot override.
	LocalPeer    string
	LocalPeerSet bool
}

// maxFatalPerFile is HAProxy's limit of fatal errors before it gives up on
// a file.
const maxFatalPerFile = 50

// maxFileSize bounds what is read of one configuration file.
const maxFileSize = 64 << 20

// section names the kind of section being parsed.
type section int

const (
	secNone section = iota
	secGlobal
	secProxy       // frontend, backend, listen, defaults
	secUserlist    // userlist
	secProgram     // program
	secResolvers   // resolvers
	secPeers       // peers
	secUnsupported // a section goproxy rejects; its lines are skipped
)

// parser holds the state of one load.
type parser struct {
	opts Options
	cfg  *Config

	errs   *multierror.Error
	file   string
	line   int
	sect   section
	secTag string // section name for ${.SECTION}
	fatal  int    // fatal errors in the current file

	cur          *Proxy   // current proxy or defaults section
	lastDefaults *Proxy   // the last defaults section (implicit parent)
	defaults     []*Proxy // every defaults section
	defRefs      map[*Proxy]int
	acls         map[*Proxy]bool
	curUserlist  *Userlist
	curProgram   *Program
	curResolvers *Resolvers
	peers        peersState // the peers section being parsed (kw_peers.go)

	globalSeen bool
	baseDirs   map[string]bool // ca-base/crt-base already seen
	tuneInts   map[string]int  // tuning keywords set once (onceTuneInts)
	// sslCaptureSet: tune.ssl.capture-buffer-size was given once.
	sslCaptureSet bool
	binds         int                 // listening addresses so far (bounded by maxListeners)
	abort         bool                // stop loading now (structural error, .alert)
	stopFile      bool                // stop reading the current file (unknown directive)
	patRefs       map[string]*MapFile // map and ACL pattern files by name (maps.go)
	refID         int                 // the next pattern reference id
	// lfCtx is where the log format being parsed is used (logformat.go).
	lfCtx lfContext
	// lfProxy is the proxy whose format is being compiled.
	lfProxy *Proxy
	// argErrs are the fetch argument errors of the proxy being checked
	// (fetchargs.go).
	argErrs []*Error
	// env is the environment the lines see (env.go).
	env *envView
	// words is the proxy line being parsed, which names the context of
	// its sample expressions (fetchargs.go).
	words []string
	// dynamic: the server options being read are those of "add server"
	// (dynserver.go).
	dynamic bool
}

const (
	refExplicit = 1 << iota
	refImplicit
)

// LoadFiles reads configuration files and directories in order, parses and
// validates them. It always returns a Config whose Diags holds every
// message in HAProxy's order; err is non-nil when a fatal error was found
// and is a *multierror.Error of *Error.
func LoadFiles(paths []string, opts Options) (*Config, error) {
	p := newParser(opts)
	files, err := expandPaths(paths)
	if err != nil {
		p.cfg.Diags = append(p.cfg.Diags, err)
		p.errs = multierror.Append(p.errs, err)
		return p.cfg, p.result()
	}
	p.cfg.Files = files
	for _, f := range files {
		data, rerr := readConfigFile(f)
		if rerr != nil {
			e := &Error{Msg: fmt.Sprintf("Cannot open configuration file %s : %s", f, rerr), Phase: PhaseOpen}
			p.cfg.Diags = append(p.cfg.Diags, e)
			p.errs = multierror.Append(p.errs, e)
			return p.cfg, p.result()
		}
		p.parseFile(f, data)
		if p.abort {
			return p.cfg, p.result()
		}
	}
	p.finish()
	return p.cfg, p.result()
}

// Parse parses configuration text as if read from a file named name.
func Parse(name, src string, opts Options) (*Config, error) {
	p := newParser(opts)
	p.cfg.Files = []string{name}
	p.parseFile(name, []byte(src))
	if !p.abort {
		p.finish()
	}
	return p.cfg, p.result()
}

func newParser(opts Options) *parser {
	if opts.Env == nil {
		opts.Env = os.LookupEnv
	}
	if opts.LookupHost == nil {
		opts.LookupHost = systemLookupHost
	}
	p := &parser{opts: opts, cfg: &Config{}, defRefs: map[*Proxy]int{}}
	p.env = &envView{base: opts.Env}
	p.opts.Env = p.env.lookup // the environment directives act as the lines are read
	p.cfg.Global = defaultGlobal()
	return p
}

func (p *parser) result() error {
	if p.errs == nil {
		return nil
	}
	p.errs.ErrorFormat = formatErrors
	return p.errs.ErrorOrNil()
}

// finish ends parsing: the trailer for parse errors, then validation.
func (p *parser) finish() {
	if p.errs.ErrorOrNil() != nil {
		p.trailer("Fatal errors found in configuration.")
		return
	}
	p.validate()
}

func (p *parser) trailer(msg string) {
	p.cfg.Diags = append(p.cfg.Diags, &Error{Msg: msg, Trailer: true})
}

// expandPaths replaces each directory by its *.cfg files (not hidden),
// sorted bytewise, as HAProxy does.
func expandPaths(paths []string) ([]string, *Error) {
	var out []string
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("Cannot open configuration file/directory %s : %s", path, hatext.Strerror(err)), Phase: PhaseOpen}
		}
		if !st.IsDir() {
			out = append(out, path)
			continue
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("Cannot open configuration directory %s : %s", path, hatext.Strerror(err)), Phase: PhaseOpen}
		}
		var names []string
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".cfg") || len(name) <= len(".cfg") {
				continue
			}
			full := filepath.Join(path, name)
			if fi, err := os.Stat(full); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			names = append(names, full)
		}
		sort.Strings(names)
		out = append(out, names...)
	}
	return out, nil
}

func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.New(hatext.Strerror(err))
	}
	defer f.Close()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, errors.New(hatext.Strerror(err))
	}
	if n > maxFileSize {
		return nil, fmt.Errorf("File too large (more than %d bytes)", maxFileSize)
	}
	return buf.Bytes(), nil
}

// pos returns the current position.
func (p *parser) pos() Pos { return Pos{File: p.file, Line: p.line} }

// alert records a fatal error at the current line ("parsing [f:l] : msg").
func (p *parser) alert(format string, args ...any) {
	p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf(format, args...), Phase: PhaseParse})
}

// alertStyle records a fatal error with a given location style.
func (p *parser) alertStyle(style Style, format string, args ...any) {
	p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf(format, args...), Phase: PhaseParse, Style: style})
}

// nonFatalAlert records an alert that HAProxy prints without failing the
// configuration ("'maxconn' already specified. Continuing.").
func (p *parser) nonFatalAlert(format string, args ...any) {
	p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf(format, args...), Phase: PhaseParse, Soft: true})
}

// serverAlert records a fatal error of a server line.
func (p *parser) serverAlert(proxy, server, format string, args ...any) {
	p.report(&Error{Pos: p.pos(), Server: proxy + "/" + server, Msg: fmt.Sprintf(format, args...), Phase: PhaseParse, Style: StyleServer})
}

func (p *parser) report(e *Error) {
	if e.Sev == SevAlert && !e.Soft && !e.Trailer {
		p.errs = multierror.Append(p.errs, e)
		if e.Phase == PhaseParse || e.Phase == PhaseAbort {
			p.fatal++
		}
	}
	p.cfg.Diags = append(p.cfg.Diags, e)
}

// warn records a warning at the current line.
func (p *parser) warn(format string, args ...any) {
	p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf(format, args...), Phase: PhaseParse, Sev: SevWarning})
}

// parseFile parses one file's bytes.
func (p *parser) parseFile(name string, data []byte) {
	p.file = name
	p.line = 0
	p.fatal = 0
	p.sect = secNone
	p.cur = nil

	var conds condStack
	text := string(data)
	missingLF := len(text) > 0 && text[len(text)-1] != '\n'
	lines := strings.Split(text, "\n")
	if !missingLF {
		lines = lines[:len(lines)-1]
	}
	for i, raw := range lines {
		p.line = i + 1
		if p.fatal >= maxFatalPerFile {
			p.alertStyle(StyleLine, "too many fatal errors (%d), stopping now.", p.fatal)
			break
		}
		if nul := strings.IndexByte(raw, 0); nul >= 0 {
			// HAProxy reads up to the NUL as a line, then complains about
			// the rest of it and stops reading the file.
			p.parseLine(raw[:nul], &conds)
			if p.abort {
				return
			}
			if i < len(lines)-1 || !missingLF {
				p.alertStyle(StyleLine, "Stray NUL character at position %d.", nul+1)
				missingLF = false
				break
			}
			continue
		}
		p.parseLine(raw, &conds)
		if p.abort {
			return
		}
		if p.stopFile {
			break
		}
	}
	p.stopFile = false
	if missingLF {
		last := lines[len(lines)-1]
		if nul := strings.IndexByte(last, 0); nul >= 0 {
			last = last[:nul]
		}
		p.alertStyle(StyleLine, "Missing LF on last line, file might have been truncated at position %d.", len(last)+1)
	}
	p.endSection()
	if len(conds) > 0 {
		p.report(&Error{Pos: p.pos(), Msg: "non-terminated '.if' block.", Phase: PhaseAbort, Style: StyleLine})
		p.fileTrailer(name)
		p.abort = true
		return
	}
	if p.fatal > 0 {
		p.fileTrailer(name)
	}
}

func (p *parser) fileTrailer(name string) {
	p.trailer("Error(s) found in configuration file : " + name)
}

func (p *parser) errsList() []error {
	if p.errs == nil {
		return nil
	}
	return p.errs.Errors
}

// condition block states, as HAProxy's nested_cond_state.
type condState int

const (
	condIfTake condState = iota
	condIfDrop
	condIfSkip
	condElifTake
	condElifDrop
	condElifSkip
	condElseTake
	condElseDrop
)

type condStack []condState

func (c condStack) masked() bool {
	if len(c) == 0 {
		return false
	}
	switch c[len(c)-1] {
	case condIfTake, condElifTake, condElseTake:
		return false
	}
	return true
}

const maxNestedConds = 100

// parseLine handles one line: lexing, directives, then the keyword.
func (p *parser) parseLine(raw string, conds *condStack) {
	words, lerr := lexLine(raw, p.opts.Env, p.pseudoVar)
	if lerr != nil {
		p.alertStyle(StyleLine, "%s", lerr.render(raw))
		return
	}
	if len(words) == 0 || words[0] == "" {
		return
	}
	if strings.HasPrefix(words[0], ".") {
		if p.directive(words, conds) {
			return
		}
	}
	if conds.masked() {
		return
	}
	if strings.HasPrefix(words[0], ".") {
		p.message(words)
		return
	}
	p.statement(words)
}

// directive handles .if/.elif/.else/.endif; it reports whether words was one.
func (p *parser) directive(words []string, conds *condStack) bool {
	switch words[0] {
	case ".if", ".elif":
		expr := strings.Join(words[1:], " ")
		if words[0] == ".if" {
			if len(*conds)+1 >= maxNestedConds {
				p.abortf("too many nested '.if', max is %d.", maxNestedConds)
				return true
			}
			if conds.masked() {
				*conds = append(*conds, condIfSkip)
				return true
			}
		} else {
			if len(*conds) == 0 {
				p.abortf("lone '.elif' with no matching '.if'.")
				return true
			}
			top := &(*conds)[len(*conds)-1]
			switch *top {
			case condElseTake, condElseDrop:
				p.abortf("'.elif' after '.else' is not permitted.")
				return true
			case condIfTake, condIfSkip, condElifTake, condElifSkip:
				*top = condElifSkip
				return true
			}
		}
		v, msg, at := evalCondition(expr, p.opts.Env, p.opts.Features)
		if v < 0 {
			text, np := sanitizeForPrinting(expr, at, 80-len(words[0])-1)
			p.abortf("%s in '%s' at position %d:\n  %s %s\n  %*s", msg, words[0], at+1, words[0], text, np+len(words[0])+2, "^")
			return true
		}
		if words[0] == ".if" {
			if v == 1 {
				*conds = append(*conds, condIfTake)
			} else {
				*conds = append(*conds, condIfDrop)
			}
		} else {
			if v == 1 {
				(*conds)[len(*conds)-1] = condElifTake
			} else {
				(*conds)[len(*conds)-1] = condElifDrop
			}
		}
		return true
	case ".else", ".endif":
		if len(words) > 1 {
			p.abortf("Unexpected argument '%s' for '%s'.", words[1], words[0])
			return true
		}
		if len(*conds) == 0 {
			p.abortf("lone '%s' with no matching '.if'.", words[0])
			return true
		}
		top := &(*conds)[len(*conds)-1]
		if words[0] == ".endif" {
			*conds = (*conds)[:len(*conds)-1]
			return true
		}
		switch *top {
		case condElseTake, condElseDrop:
			p.abortf("'.else' after '.else' is not permitted.")
		case condIfTake, condIfSkip, condElifTake, condElifSkip:
			*top = condElseDrop
		default:
			*top = condElseTake
		}
		return true
	}
	return false
}

// abortf reports a structural error that stops loading at once.
func (p *parser) abortf(format string, args ...any) {
	p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf(format, args...), Phase: PhaseAbort, Style: StyleLine})
	p.fileTrailer(p.file)
	p.abort = true
}

// message handles .diag/.notice/.warning/.alert.
func (p *parser) message(words []string) {
	name := words[0]
	switch name {
	case ".alert", ".warning", ".notice", ".diag":
	default:
		p.alertStyle(StyleLine, "unknown directive '%s'.", name)
		p.stopFile = true
		return
	}
	if len(words) > 2 {
		p.alertStyle(StyleLine, "Unexpected argument '%s' for '%s'. Use quotes if the message should contain spaces.", words[2], name)
		return
	}
	msg := ""
	if len(words) > 1 {
		msg = words[1]
	}
	e := &Error{Pos: p.pos(), Msg: fmt.Sprintf("'%s'.", msg), Phase: PhaseParse, Style: StyleLine}
	switch name {
	case ".alert":
		p.report(e)
		p.fileTrailer(p.file)
		p.abort = true
	case ".warning":
		e.Sev = SevWarning
		p.report(e)
	case ".notice":
		e.Sev = SevNotice
		p.report(e)
	case ".diag":
		if p.opts.Diag {
			e.Sev = SevDiag
			p.report(e)
		}
	}
}

// pseudoVar resolves ${.FILE}, ${.LINE} and ${.SECTION}.
func (p *parser) pseudoVar(name string) (string, bool) {
	switch name {
	case ".FILE":
		return p.file, true
	case ".LINE":
		return fmt.Sprint(p.line), true
	case ".SECTION":
		return p.secTag, true
	}
	return "", false
}
