package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"goproxy/parser"
)

// Exit statuses of -c, as HAProxy's.
const (
	exitOK         = 0
	exitError      = 1
	exitNoListener = 2
)

// runCheck implements -c: load the files, print the diagnostics as
// HAProxy does on stderr, the verdict on stdout, and return the exit status.
func runCheck(o *options, stdout io.Writer, c *console) int {
	cfg, err := loadConfig(o.files, loadOptionsFor(o))
	if !reportLoad(c, o.files, cfg, err) {
		return exitError
	}
	if zeroWarning(o, cfg) && c.warned() > 0 {
		c.alert("config : Some warnings were found and 'zero-warning' is set. Aborting.")
		return exitError
	}
	quiet := o.quiet && !o.verbose
	if c.warned() > 0 && !quiet {
		fmt.Fprintln(stdout, "Warnings were found.")
	}
	if !hasListener(cfg) {
		if !quiet {
			fmt.Fprintln(stdout, "Configuration file has no error but will not start (no listener) => exit(2).")
		}
		return exitNoListener
	}
	if !quiet {
		fmt.Fprintln(stdout, "Configuration file is valid")
	}
	return exitOK
}

// zeroWarning reports whether warnings are fatal (-dW or global zero-warning).
func zeroWarning(o *options, cfg *parser.Config) bool {
	return o.zeroWarning || (cfg != nil && cfg.Global.ZeroWarning)
}

// hasListener reports whether the configuration would listen anywhere: an
// enabled proxy with the frontend capability and at least one bind, or a
// stats socket (HAProxy counts its CLI listeners too).
func hasListener(cfg *parser.Config) bool {
	if cfg == nil {
		return false
	}
	if len(cfg.Global.StatsSockets) > 0 {
		return true
	}
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapFrontend != 0 && !p.Disabled && len(p.Binds) > 0 {
			return true
		}
	}
	return false
}

// diag is one message to print with its level.
type diag struct {
	tag string
	err *parser.Error
	seq int // order of arrival within its list, to keep sorts stable
}

// stage says where a message belongs in HAProxy's output: while reading
// files (by file, then line) or after (checks, then address resolution).
type stage int

const (
	stageOpen stage = iota
	stageParse
	stageCheck
	stageAddr
)

func stageOf(e *parser.Error) stage {
	switch e.Phase {
	case parser.PhaseOpen:
		if e.Pos.File == "" {
			return stageOpen
		}
		return stageParse
	case parser.PhaseParse, parser.PhaseAbort:
		return stageParse
	case parser.PhaseAddr:
		return stageAddr
	default:
		return stageCheck
	}
}

// messageStage places warnings and notices: those with a position were
// found while reading, the others by the post-parse checks.
func messageStage(e *parser.Error) stage {
	if e.Phase == parser.PhaseCheck || e.Phase == parser.PhaseAddr || e.Pos.File == "" {
		return stageCheck
	}
	return stageParse
}

// reportLoad prints the notices, warnings and alerts of a load in the order
// and with the closing lines HAProxy 2.6 prints, and reports whether the
// configuration is usable (no error).
//
//   - A file that cannot be opened: only that alert (HAProxy stops there).
//   - Messages found while reading, file by file in load order and line by
//     line; after a file with errors, "Error(s) found in configuration file :
//     <file>". Then, if any error was structural (PhaseAbort), nothing more;
//     else if any, "Fatal errors found in configuration.".
//   - Post-parse check messages; after check errors, "Fatal errors found in
//     configuration.".
//   - Address resolution errors, then "Failed to initialize server(s) addr.".
func reportLoad(c *console, args []string, cfg *parser.Config, err error) bool {
	errs := parser.Errors(err)
	if err != nil && len(errs) == 0 {
		// Not a parser diagnostic: report it as it is.
		c.alert("config : %v", err)
		return false
	}
	var opens []*parser.Error
	byStage := map[stage][]diag{}
	for i, e := range errs {
		s := stageOf(e)
		if s == stageOpen {
			opens = append(opens, e)
			continue
		}
		byStage[s] = append(byStage[s], diag{tag: tagAlert, err: e, seq: i})
	}
	if len(opens) > 0 {
		for _, e := range opens {
			c.alert("config : %s", e.Error())
		}
		return false
	}
	var warns, notices []*parser.Error
	if cfg != nil {
		warns, notices = cfg.Warnings, cfg.Notices
	}
	n := len(errs)
	for _, e := range notices {
		byStage[messageStage(e)] = append(byStage[messageStage(e)], diag{tag: tagNotice, err: e, seq: n})
		n++
	}
	for _, e := range warns {
		byStage[messageStage(e)] = append(byStage[messageStage(e)], diag{tag: tagWarning, err: e, seq: n})
		n++
	}

	// Reading stage.
	order := fileOrder(args, cfg, byStage[stageParse])
	parse := byStage[stageParse]
	sort.SliceStable(parse, func(i, j int) bool {
		a, b := parse[i].err.Pos, parse[j].err.Pos
		if order[a.File] != order[b.File] {
			return order[a.File] < order[b.File]
		}
		return a.Line < b.Line
	})
	parseFailed, aborted := false, false
	for i, d := range parse {
		printDiag(c, d)
		if d.tag == tagAlert {
			parseFailed = true
			if d.err.Phase == parser.PhaseAbort {
				aborted = true
			}
		}
		last := i == len(parse)-1 || parse[i+1].err.Pos.File != d.err.Pos.File
		if last && fileHasError(parse, d.err.Pos.File) {
			c.alert("config : Error(s) found in configuration file : %s", d.err.Pos.File)
		}
	}
	if aborted {
		return false
	}
	if parseFailed {
		c.alert("config : Fatal errors found in configuration.")
		return false
	}

	// Post-parse checks: warnings first, then errors (the parser reports
	// them in two lists, so their interleaving is not known).
	check := byStage[stageCheck]
	sort.SliceStable(check, func(i, j int) bool {
		return check[i].tag != tagAlert && check[j].tag == tagAlert
	})
	checkFailed := false
	for _, d := range check {
		printDiag(c, d)
		if d.tag == tagAlert {
			checkFailed = true
		}
	}
	if checkFailed {
		c.alert("config : Fatal errors found in configuration.")
		return false
	}

	// Server address resolution.
	for _, d := range byStage[stageAddr] {
		printDiag(c, d)
	}
	if len(byStage[stageAddr]) > 0 {
		c.alert("config : Failed to initialize server(s) addr.")
		return false
	}
	return err == nil
}

func fileHasError(ds []diag, file string) bool {
	for _, d := range ds {
		if d.tag == tagAlert && d.err.Pos.File == file {
			return true
		}
	}
	return false
}

// printDiag prints one config message. Continuation lines that carry no
// layout of their own get HAProxy's "   | " margin.
func printDiag(c *console, d diag) {
	msg := d.err.Error()
	lines := strings.Split(strings.TrimSuffix(msg, "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], " ") {
			lines[i] = "   | " + lines[i]
		}
	}
	c.print(d.tag, "config : "+strings.Join(lines, "\n"))
}

// fileOrder ranks the files in load order: the parser's list when there is
// a configuration, else the command-line arguments with directories
// expanded; files seen only in messages come last, in message order.
func fileOrder(args []string, cfg *parser.Config, ds []diag) map[string]int {
	var files []string
	if cfg != nil && len(cfg.Files) > 0 {
		files = cfg.Files
	} else {
		files = expandPaths(args)
	}
	order := map[string]int{}
	for _, f := range files {
		if _, ok := order[f]; !ok {
			order[f] = len(order)
		}
	}
	for _, d := range ds {
		if _, ok := order[d.err.Pos.File]; !ok {
			order[d.err.Pos.File] = len(order)
		}
	}
	return order
}

// expandPaths replaces each directory by its regular files ending in
// ".cfg" and not starting with '.', sorted bytewise, as HAProxy does.
// Unreadable paths are kept as they are.
func expandPaths(args []string) []string {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			out = append(out, a)
			continue
		}
		var names []string
		for _, e := range ents {
			n := e.Name()
			if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".cfg") {
				continue
			}
			p := a + "/" + n // as HAProxy builds it: "dir/" gives "dir//x.cfg"
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				names = append(names, p)
			}
		}
		sort.Strings(names)
		out = append(out, names...)
	}
	return out
}
