package parser

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in       string
		want     time.Duration
		trailing string
		err      string
	}{
		{"5000", 5 * time.Second, "", ""},
		{"5000ms", 5 * time.Second, "", ""},
		{"3600000ms", time.Hour, "", ""},
		{"5s", 5 * time.Second, "", ""},
		{"2m", 2 * time.Minute, "", ""},
		{"1h", time.Hour, "", ""},
		{"1d", 24 * time.Hour, "", ""},
		{"100us", time.Millisecond, "", ""},
		{"1us", time.Millisecond, "", ""},
		{"1500us", 2 * time.Millisecond, "", ""},
		{"0", 0, "", ""},
		{"1sec", time.Second, "ec", ""},
		{"1.5s", 0, "", "unexpected character '.'"},
		{"5S", 0, "", "unexpected character 'S'"},
		{"-1", 0, "", "unexpected character '-'"},
		{"", 0, "", "empty value"},
		{"25d", 0, "", "timer overflow"},
		{"2147483647", 2147483647 * time.Millisecond, "", ""},
		{"2147483648", 0, "", "timer overflow"},
		{"99999999999999999999", 0, "", "timer overflow"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, trailing, err := ParseTime(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ParseTime(%q) error = %v, want %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTime(%q): %v", tc.in, err)
			}
			if got != tc.want || trailing != tc.trailing {
				t.Errorf("ParseTime(%q) = %v, %q; want %v, %q", tc.in, got, trailing, tc.want, tc.trailing)
			}
		})
	}
}
