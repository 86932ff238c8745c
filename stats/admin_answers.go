package stats

import (
	"errors"
	"strings"

	"goproxy/proxy"
)

// adminAnswers maps the typed errors of the runtime's admin calls to
// HAProxy's answers: the one place these words live. The CLI's own
// argument checks answer from it too.
var adminAnswers = []struct {
	err    error
	answer string
}{
	{proxy.ErrWeightRange, "Absolute weight can only be between 0 and 256 inclusive.\n"},
	{proxy.ErrStaticWeight, "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"},
	{proxy.ErrAgentDisabled, "agent checks are not enabled on this server.\n"},
	{proxy.ErrHealthState, "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n"},
}

// answer returns HAProxy's answer to err: the table's for a typed error,
// else the error's own text, ended with a newline.
func answer(err error) string {
	for _, a := range adminAnswers {
		if errors.Is(err, a.err) {
			return a.answer
		}
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	return msg
}

// adminResult turns an Admin error into the answer text.
func adminResult(err error) string {
	if err == nil {
		return ""
	}
	return answer(err)
}
