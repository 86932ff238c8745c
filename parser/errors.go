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
	// PhaseStart: a problem found while starting (binding, limits).
	PhaseStart
)

// Severity is the level of a diagnostic.
type Severity int

// Severities, as HAProxy's message levels.
const (
	SevAlert Severity = iota
	SevWarning
	SevNotice
	SevDiag
)

// Style is how the location is written in front of a message; HAProxy is
// not consistent and scripts grep its exact words.
type Style int

// Location styles.
const (
	StyleKeyword Style = iota // "parsing [f:l] : msg"
	StyleLine                 // "parsing [f:l]: msg" (lexer, .if, section messages)
	StyleCapital              // "Parsing [f:l]: msg"
	StyleServer               // "[f:l] : 'server be/s' : msg"
	StyleBare                 // "[f:l] : msg"
)

// Error is one diagnostic, rendered exactly as HAProxy prints it after the
// "[ALERT]    (pid) : config : " prefix.
type Error struct {
	Pos    Pos    // zero when the message has no location
	Server string // "backend/server" for server-line messages
	Msg    string
	Phase  Phase
	Sev    Severity
	Style  Style
	// Trailer marks HAProxy's closing lines ("Fatal errors found in
	// configuration."), which are not errors of their own.
	Trailer bool
	// Soft marks an alert that HAProxy prints but does not count as fatal
	// ("'maxconn' already specified. Continuing.").
	Soft bool
}

// Error renders the message in HAProxy's format.
func (e *Error) Error() string {
	if e.Pos.File == "" {
		return e.Msg
	}
	switch e.Style {
	case StyleServer:
		return fmt.Sprintf("[%s:%d] : 'server %s' : %s", e.Pos.File, e.Pos.Line, e.Server, e.Msg)
	case StyleLine:
		return fmt.Sprintf("parsing [%s:%d]: %s", e.Pos.File, e.Pos.Line, e.Msg)
	case StyleCapital:
		return fmt.Sprintf("Parsing [%s:%d]: %s", e.Pos.File, e.Pos.Line, e.Msg)
	case StyleBare:
		return fmt.Sprintf("[%s:%d] : %s", e.Pos.File, e.Pos.Line, e.Msg)
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
