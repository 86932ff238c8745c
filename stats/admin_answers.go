package stats

import (
	"errors"
	"strings"

	"goproxy/internal/cnum"
	"goproxy/proxy"
)

// adminAnswers maps the typed errors of the runtime's admin calls to
// HAProxy's answers: the one place these words live. The CLI's own
// argument checks answer from it too.
var adminAnswers = []struct {
	err    error
	answer string
}{
	{proxy.ErrWeightRange, cnum.WeightRangeMsg},
	{proxy.ErrStaticWeight, cnum.StaticWeightMsg},
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
