package parser

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/go-multierror"
)

// Phase says when an error was found, which decides HAProxy's closing lines.
type Phase int

// Phases of loading a configuration.
const (
	// PhaseOpen: a file or directory could not be read.
	PhaseOpen Phase = iota
	// PhaseParse: a keyword or value error, reported with "parsing [f:l]".
	PhaseParse
	// PhaseAbort: a structural error (.if blocks, quotes) that stops parsing.
	PhaseAbort
	// PhaseCheck: a post-parse check (references, duplicates, ...).
	PhaseCheck
	// PhaseAddr: a server address that could not be resolved.
	PhaseAddr
)

// Error is one diagnostic, rendered exactly as HAProxy prints it after the
// "[ALERT]    (pid) : config : " prefix.
type Error struct {
	Pos    Pos    // zero when the message has no location
	Server string // "backend/server" for server-line messages
	Msg    string
	Phase  Phase
}

// Error renders the message in HAProxy's format.
func (e *Error) Error() string {
	switch {
	case e.Pos.File == "":
		return e.Msg
	case e.Server != "":
		return fmt.Sprintf("[%s:%d] : 'server %s' : %s", e.Pos.File, e.Pos.Line, e.Server, e.Msg)
	default:
		return fmt.Sprintf("parsing [%s:%d] : %s", e.Pos.File, e.Pos.Line, e.Msg)
	}
}

// formatErrors renders one HAProxy line per error instead of multierror's list.
func formatErrors(errs []error) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Errors returns the *Error values inside err (a multierror or a single one).
func Errors(err error) []*Error {
	var out []*Error
	var me *multierror.Error
	if errors.As(err, &me) {
		for _, e := range me.Errors {
			var pe *Error
			if errors.As(e, &pe) {
				out = append(out, pe)
			}
		}
		return out
	}
	var pe *Error
	if errors.As(err, &pe) {
		out = append(out, pe)
	}
	return out
}
