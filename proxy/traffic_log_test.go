package proxy

import "testing"

func TestAbnormalSession(t *testing.T) {
	tests := []struct {
		name string
		r    SessionRecord
		want bool
	}{
		{"normal", SessionRecord{Term: "--"}, false},
		{"local", SessionRecord{Term: "L-"}, false},
		{"client timeout", SessionRecord{Term: "cD"}, true},
		{"server close", SessionRecord{Term: "SD"}, true},
		{"retried then fine", SessionRecord{Term: "--", Retries: 1}, true},
		{"redispatched", SessionRecord{Term: "--", Redispatched: true}, true},
		{"empty term", SessionRecord{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := abnormalSession(&tc.r); got != tc.want {
				t.Errorf("abnormalSession(%+v) = %v, want %v", tc.r, got, tc.want)
			}
		})
	}
}
