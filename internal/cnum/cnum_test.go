package cnum

import "testing"

func TestStrtol(t *testing.T) {
	for _, tc := range []struct {
		in   string
		v    int64
		rest string
		ok   bool
	}{
		{"10", 10, "", true},
		{" \t-7x", -7, "x", true},
		{"+3", 3, "", true},
		{"", 0, "", false},
		{"x1", 0, "x1", false},
		{"-", 0, "-", false},
	} {
		v, rest, ok := Strtol(tc.in)
		if ok != tc.ok || rest != tc.rest || v != tc.v {
			t.Errorf("Strtol(%q) = %d, %q, %v; want %d, %q, %v", tc.in, v, rest, ok, tc.v, tc.rest, tc.ok)
		}
	}
	// Huge values saturate instead of wrapping.
	if v, rest, ok := Strtol("99999999999999999999"); !ok || rest != "" || v < 1<<40 {
		t.Errorf("Strtol of 20 nines = %d, %q, %v", v, rest, ok)
	}
}

func TestMaxconn(t *testing.T) {
	for in, want := range map[string]string{
		"":    "Require <maxconn>.\n",
		"x":   "maxconn string empty or preceded by garbage",
		"12a": "Trailing garbage in maxconn string",
		"12":  "",
	} {
		if _, msg := Maxconn(in); msg != want {
			t.Errorf("Maxconn(%q) = %q, want %q", in, msg, want)
		}
	}
	if v, _ := Maxconn("-3"); v != -3 {
		t.Errorf("Maxconn(-3) = %d", v)
	}
}

func TestAtol(t *testing.T) {
	for in, want := range map[string]int{
		"": 0, "abc": 0, "5": 5, "12": 12, "12ab": 12, " 7x": 7, "\t\n9": 9,
		"-5": -5, "+3": 3, "-": 0, "99999999999": 99999999999,
		"99999999999999999999999": 1 << 40, "-99999999999999999999999": -(1 << 40),
	} {
		if got := Atol(in); got != want {
			t.Errorf("Atol(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestWeight(t *testing.T) {
	for _, tc := range []struct {
		in       string
		w        int64
		relative bool
		msg      string
	}{
		{"0", 0, false, ""},
		{"256", 256, false, ""},
		{"75%", 75, true, ""},
		{"99999%", 25600, true, ""},
		{"", 0, false, "Require <weight> or <weight%>.\n"},
		{"x", 0, false, "Empty weight string empty or preceded by garbage"},
		{"-5%", 0, false, "Relative weight must be positive.\n"},
		{"257", 0, false, WeightRangeMsg},
		{"300x%", 0, false, WeightRangeMsg},
		{"7x%", 0, false, "Trailing garbage in weight string"},
	} {
		w, rel, msg := Weight(tc.in)
		if w != tc.w || rel != tc.relative || msg != tc.msg {
			t.Errorf("Weight(%q) = %d, %v, %q; want %d, %v, %q", tc.in, w, rel, msg, tc.w, tc.relative, tc.msg)
		}
	}
}
