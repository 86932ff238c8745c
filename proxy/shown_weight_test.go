package proxy

import (
	"testing"

	"github.com/sirupsen/logrus/hooks/test"
)

// TestShownWeightInMaint follows HAProxy 2.6: a weight set while a server
// is in maintenance shows once it leaves it (observed: MAINT,7 after
// "set weight 7; disable server; set weight 9", then 9 once enabled).
func TestShownWeightInMaint(t *testing.T) {
	log, _ := test.NewNullLogger()
	p := checked()
	p.Weight = 2
	be := testBackend(t, 1, p)
	s := be.Servers[0]
	s.uweight.Store(2)
	steps := []struct {
		do    func()
		shown int
	}{
		{func() { s.SetWeight(7, log) }, 7},
		{func() { s.SetMaint(true, log) }, 7},
		{func() { s.SetWeight(9, log) }, 7},
		{func() { s.SetMaint(false, log) }, 9},
		{func() { s.SetDrain(true, log) }, 9},
		{func() { s.SetWeight(3, log) }, 3},
	}
	for i, st := range steps {
		st.do()
		if got := s.ShownWeight(); got != st.shown {
			t.Fatalf("step %d: shown weight %d, want %d (uweight %d)", i, got, st.shown, s.UWeight())
		}
	}
	p.Disabled = true
	d := testBackend(t, 1, p).Servers[0]
	d.SetWeight(5, log)
	if d.ShownWeight() != 1 || d.UWeight() != 5 {
		t.Fatalf("disabled in the config: shown %d, uweight %d", d.ShownWeight(), d.UWeight())
	}
}
