package health

import (
	"testing"

	"goproxy/internal/srvstate"
)

// FuzzAgentReply: any agent line parses without a panic into a reply whose
// weight and maxconn are either usable values or a warning, never both.
func FuzzAgentReply(f *testing.F) {
	for _, s := range []string{"up 75%", "DRAIN,50% # busy now", "down maxconn:10 bogus", "", "7x%", "300x%",
		"maxconn:", "MAXCONN:-3 ready", "#", " \t,", "99999999999999999999%", "up\x00down"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a := parseAgentLine(line).typed()
		if a.HasWeight && a.WeightWarning != "" {
			t.Fatalf("%q: weight both usable and refused: %+v", line, a)
		}
		if a.HasWeight && (a.Weight < 0 || (a.WeightRelative && a.Weight > 25600) || (!a.WeightRelative && a.Weight > 256)) {
			t.Fatalf("%q: weight out of range: %+v", line, a)
		}
		if a.HasMaxConn && a.MaxConnWarning != "" {
			t.Fatalf("%q: maxconn both usable and refused: %+v", line, a)
		}
		if (a.Health == srvstate.AgentHealthNone) != (a.HealthWord == "") {
			t.Fatalf("%q: health %d for word %q", line, a.Health, a.HealthWord)
		}
	})
}
