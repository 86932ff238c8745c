package stats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"goproxy/internal/cnum"
)

// Limits of a server state file (the output of "show servers state").
const (
	// MaxStateFileSize bounds the bytes read from a state file: about
	// 130,000 servers at HAProxy's longest line.
	MaxStateFileSize = 64 << 20
	// maxStateLine is HAProxy's line buffer (SRV_STATE_LINE_MAXLEN): a line
	// and its newline must fit in it, terminating NUL included.
	maxStateLine = 512
	// Field counts of a version 1 line (be_id .. srvrecord are mandatory,
	// srv_use_ssl .. srv_agent_port optional); fields past the 25th are
	// ignored, as HAProxy does.
	stateFieldsMin = 20
	stateFieldsMax = 25
)

// StateEntry is one server line of a version 1 state file.
type StateEntry struct {
	Line      int    // line number in the file, from 1
	BackendID string // be_id as written
	Backend   string // be_name
	ServerID  string // srv_id as written
	Server    string // srv_name
	// Params are the fields from srv_addr on, as written: 16 to 21 of
	// them (srv_addr, srv_op_state, srv_admin_state, ..., srv_agent_port).
	Params []string
}

// param returns the i-th field from srv_addr on, or "" when the line is
// shorter.
func (e *StateEntry) param(i int) string {
	if i < len(e.Params) {
		return e.Params[i]
	}
	return ""
}

// StateLineError is a line of a state file that was skipped.
type StateLineError struct {
	File string
	Line int
	Msg  string
}

func (e *StateLineError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// StateFile is a parsed server state file.
type StateFile struct {
	Name    string
	Version int
	// Entries are the well-formed server lines in file order, duplicates
	// included.
	Entries []StateEntry
	// Errors lists the malformed lines, which were skipped.
	Errors []*StateLineError
}

// Errors of a state file that cannot be used at all.
var (
	// ErrStateVersion: the first line is not a supported format version
	// (or the file is empty).
	ErrStateVersion = errors.New("can't get version of the server state file")
	// ErrStateTooLarge: the file is larger than MaxStateFileSize.
	ErrStateTooLarge = errors.New("server state file too large")
)

// ReadStateFile opens and parses the state file at path.
func ReadStateFile(path string) (*StateFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseStateFile(path, f)
}

// ParseStateFile parses a state file read from r; name is used in the
// errors. It fails only when the file cannot be used at all: a read error,
// more than MaxStateFileSize bytes, or a first line that is not a
// supported version (ErrStateVersion). Malformed lines are skipped and
// reported in Errors with their line numbers; it never panics.
func ParseStateFile(name string, r io.Reader) (*StateFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxStateFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxStateFileSize {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", name, ErrStateTooLarge, MaxStateFileSize)
	}
	sf := &StateFile{Name: name}
	first, rest, ok := bytes.Cut(data, []byte{'\n'})
	if !ok || len(first) >= maxStateLine-1 {
		// Empty, or a version line without its newline.
		return nil, fmt.Errorf("%s: %w", name, ErrStateVersion)
	}
	v, tail, digits := cnum.Strtol(string(first))
	if !digits || tail != "" || v != 1 {
		return nil, fmt.Errorf("%s: %w", name, ErrStateVersion)
	}
	sf.Version = int(v)
	for n := 2; len(rest) > 0; n++ {
		var line []byte
		line, rest, ok = bytes.Cut(rest, []byte{'\n'})
		e, msg := parseStateLine(line, ok)
		switch {
		case msg != "":
			sf.Errors = append(sf.Errors, &StateLineError{File: name, Line: n, Msg: msg})
		case e != nil:
			e.Line = n
			sf.Entries = append(sf.Entries, *e)
		}
	}
	return sf, nil
}

// parseStateLine splits one line (without its newline; terminated tells
// whether it had one). It returns nil and no message for blank and comment
// lines.
func parseStateLine(line []byte, terminated bool) (*StateEntry, string) {
	if len(line)+1 >= maxStateLine {
		return nil, fmt.Sprintf("line too long (more than %d bytes)", maxStateLine-2)
	}
	if !terminated {
		return nil, "truncated line (no newline at the end of the file)"
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return nil, "NUL character in line"
	}
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i == len(line) || line[i] == '#' {
		return nil, ""
	}
	fields := make([]string, 0, stateFieldsMax)
	for i < len(line) && len(fields) < stateFieldsMax {
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		fields = append(fields, string(line[start:i]))
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
	}
	if len(fields) < stateFieldsMin {
		return nil, fmt.Sprintf("%d fields, version 1 lines have %d to %d", len(fields), stateFieldsMin, stateFieldsMax)
	}
	return &StateEntry{
		BackendID: fields[0], Backend: fields[1], ServerID: fields[2], Server: fields[3],
		Params: fields[4:],
	}, ""
}
