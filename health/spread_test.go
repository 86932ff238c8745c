package health

import (
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

type intervalTarget struct{ inter time.Duration }

func (f intervalTarget) CheckConfigured(k srvstate.CheckKind) bool      { return k == srvstate.HealthCheck }
func (f intervalTarget) CheckInterval(srvstate.CheckKind) time.Duration { return f.inter }
func (f intervalTarget) StartCheck(srvstate.CheckKind) bool             { return true }
func (f intervalTarget) Report(srvstate.Report, logrus.FieldLogger)     {}

// TestFirstSpread follows HAProxy's start_checks: the shortest interval of
// at least 1 s (or the own one, if longer) times position / count, capped
// by max-spread-checks.
func TestFirstSpread(t *testing.T) {
	s := time.Second
	cases := []struct {
		name   string
		inters []time.Duration
		max    time.Duration
		want   []time.Duration
	}{
		{"equal", []time.Duration{4 * s, 4 * s, 4 * s, 4 * s}, 0, []time.Duration{0, s, 2 * s, 3 * s}},
		{"short intervals do not dictate", []time.Duration{100 * time.Millisecond, 2 * s, 6 * s, 2 * s}, 0,
			[]time.Duration{0, s / 2, 3 * s, 3 * s / 2}},
		{"capped", []time.Duration{4 * s, 4 * s}, s, []time.Duration{0, s / 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var targets []Server
			for _, in := range c.inters {
				targets = append(targets, Server{Backend: &parser.Proxy{Name: "be"}, Name: "s",
					Addr: parser.Addr{Host: "127.0.0.1", Port: 1}, Params: parser.ServerParams{Inter: in}, Target: intervalTarget{in}})
			}
			m, err := New(targets, Options{MaxSpreadChecks: c.max})
			if err != nil {
				t.Fatal(err)
			}
			for i, j := range m.jobs {
				if j.first != c.want[i] {
					t.Errorf("check %d starts after %v, want %v", i, j.first, c.want[i])
				}
			}
		})
	}
}

// TestSpreadChecks: with spread-checks 50, intervals vary within ±50%.
func TestSpreadChecks(t *testing.T) {
	const inter = 100 * time.Millisecond
	var lo, hi int
	for range 200 {
		d := spreadInterval(inter, 50)
		if d < inter/2 || d > inter*3/2 {
			t.Fatalf("spread interval %v out of ±50%%", d)
		}
		if d < inter*8/10 {
			lo++
		}
		if d > inter*12/10 {
			hi++
		}
	}
	if lo == 0 || hi == 0 {
		t.Fatalf("intervals not spread: %d short, %d long", lo, hi)
	}
	if d := spreadInterval(inter, 0); d != inter {
		t.Fatalf("no spread changed the interval to %v", d)
	}
}
