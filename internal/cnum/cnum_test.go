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
