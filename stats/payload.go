package stats

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"time"
)

// The CLI's multi-line payloads, as HAProxy's: a command line whose last
// word is "<<" is followed by payload lines up to the first empty line,
// and the payload is the command's input ("set ssl cert <file> <<").

// maxPayload bounds a payload (a certificate chain and its key fit many
// times over).
const maxPayload = 1 << 20

// payloadTimeout bounds the time the whole payload may take to arrive.
const payloadTimeout = 5 * time.Second

// errPayloadTooLarge is readPayload's error beyond maxPayload.
var errPayloadTooLarge = errors.New("cli: payload too large")

// payloadCommand returns the line without its final "<<" when it starts
// a payload.
func payloadCommand(line string) (string, bool) {
	t := strings.TrimRight(line, " \t")
	if !strings.HasSuffix(t, "<<") {
		return line, false
	}
	cmd := strings.TrimSuffix(t, "<<")
	if cmd != "" && !strings.HasSuffix(cmd, " ") && !strings.HasSuffix(cmd, "\t") {
		return line, false
	}
	return strings.TrimRight(cmd, " \t"), true
}

// readPayload reads payload lines up to an empty line (or the end of
// the input) and returns them joined with '\n'.
func readPayload(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := readLine(r)
		if err != nil {
			if b.Len() > 0 && errors.Is(err, io.EOF) {
				return b.String(), nil
			}
			return "", err
		}
		if line == "" {
			return b.String(), nil
		}
		if b.Len()+len(line)+1 > maxPayload {
			return "", errPayloadTooLarge
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}
