package parser

import "fmt"

// The order of a proxy's own tcp-check and http-check rules, checked as
// HAProxy checks it while parsing: a connect comes first, and once option
// httpchk is on, HTTP rules alternate connect, send, expect.

// checkStep is one rule of a proxy's own http-check ruleset as HAProxy
// keeps it while parsing: its kind, the index its error messages count
// from, and whether it is the implicit send of option httpchk.
type checkStep struct {
	kind    string
	index   int
	fromOpt bool
}

// connectNotFirst reports whether a connect rule added after kinds would
// break HAProxy's rule that a ruleset with a connect starts with one
// (comments, variables and option httpchk's request may precede it).
func connectNotFirst(kinds []checkStep) bool {
	for _, s := range kinds {
		switch {
		case s.kind == "connect":
			return false
		case s.kind == "comment" || s.fromOpt:
			continue
		}
		return true
	}
	return false
}

const connectFirstMsg = "first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset"

// tcpCheckSteps are the kinds of the proxy's own tcp-check rules.
func tcpCheckSteps(px *Proxy) []checkStep {
	if px.inheritedChecks {
		return nil
	}
	steps := make([]checkStep, len(px.TCPChecks))
	for i, r := range px.TCPChecks {
		steps[i] = checkStep{kind: r.Kind}
	}
	return steps
}

// nextHTTPCheckIndex is the index HAProxy gives the next http-check rule:
// one more than the last rule's, or 0 after option httpchk's request.
func nextHTTPCheckIndex(steps []checkStep) int {
	if len(steps) == 0 {
		return 0
	}
	last := steps[len(steps)-1]
	if last.kind == "send" && last.fromOpt {
		return 0
	}
	return last.index + 1
}

// lastRealStep is the last rule that is not a comment, or nil.
func lastRealStep(steps []checkStep) *checkStep {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].kind != "comment" {
			return &steps[i]
		}
	}
	return nil
}

// firstRealStep is the index of the first rule that is not a comment, or -1.
func firstRealStep(steps []checkStep, from int) int {
	for i := from; i < len(steps); i++ {
		if steps[i].kind != "comment" {
			return i
		}
	}
	return -1
}

// httpCheckOrderError is HAProxy's tcpcheck_add_http_rule verdict on
// adding a rule of kind at index after steps, "" when it may be added.
func httpCheckOrderError(steps []checkStep, kind string, index int) string {
	last := lastRealStep(steps)
	if last == nil || (last.kind == "send" && last.fromOpt) {
		return ""
	}
	switch {
	case kind == "send" && last.kind != "connect":
		return fmt.Sprintf("unable to add http-check send rule at step %d (missing connect rule).", index+1)
	case kind == "expect" && last.kind != "send" && last.kind != "expect":
		return fmt.Sprintf("unable to add http-check expect rule at step %d (missing send rule).", index+1)
	case kind == "connect" && last.kind != "expect":
		return fmt.Sprintf("unable to add http-check connect rule at step %d (missing expect rule).", index+1)
	}
	return ""
}

// addHTTPCheckStep records an accepted http-check rule. An explicit send
// is merged into option httpchk's request when that one comes first,
// and the merged rule moves to the end, keeping its index.
func addHTTPCheckStep(steps []checkStep, kind string, index int, enabled bool) []checkStep {
	if enabled && kind == "send" {
		if i := firstRealStep(steps, 0); i >= 0 && steps[i].kind == "send" && steps[i].fromOpt {
			merged := checkStep{kind: "send", index: steps[i].index}
			steps = append(steps[:i:i], steps[i+1:]...)
			return append(steps, merged)
		}
	}
	return append(steps, checkStep{kind: kind, index: index})
}

// addOptionHTTPChkStep records option httpchk's implicit request: put in
// front unless an explicit send (after an optional first connect) already
// holds the request, which then takes the option's settings.
func addOptionHTTPChkStep(steps []checkStep) []checkStep {
	i := firstRealStep(steps, 0)
	if i >= 0 && steps[i].kind == "connect" {
		i = firstRealStep(steps, i+1)
	}
	implicit := checkStep{kind: "send", fromOpt: true}
	switch {
	case i < 0 || steps[i].kind != "send":
		return append([]checkStep{implicit}, steps...)
	case steps[i].fromOpt:
		rest := append(steps[:i:i], steps[i+1:]...)
		return append([]checkStep{implicit}, rest...)
	}
	return steps
}
