package parser

import (
	"strings"
	"testing"
)

// FuzzStickTableLine parses arbitrary stick-table lines: never a panic,
// and an accepted line always has a type, a size and stored data in
// HAProxy's order without duplicates.
func FuzzStickTableLine(f *testing.F) {
	for _, s := range []string{
		"type ip size 1m expire 30s store conn_cnt,conn_rate(10s),gpc0",
		"type string len 32 size 100 nopurge store server_id",
		"type binary len 0 size 1k",
		"type ipv6 size 10g store conn_rate(",
		"size 10 type integer store gpc0_rate(1m,2),,http_req_rate(10s)",
		"type ip size 4294967296",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		w := append([]string{"stick-table"}, strings.Fields(line)...)
		tb, msg := parseStickTableLine(w, len(w)%2 == 0)
		if msg != "" {
			return
		}
		if tb.Type == "" || tb.Size <= 0 || tb.KeyLen <= 0 {
			t.Fatalf("accepted %q without type, size or key length: %+v", line, tb)
		}
		last := -1
		for _, d := range tb.Store {
			i := StickDataIndex(d.Type)
			if i <= last {
				t.Fatalf("stored data out of order or duplicated in %q: %+v", line, tb.Store)
			}
			last = i
		}
	})
}
