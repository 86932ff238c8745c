package stats

import (
	"bytes"
	"strings"
)

// csvHeader is the first line of show stat: "# " and every column name
// followed by a comma.
var csvHeader = func() string {
	var b strings.Builder
	b.WriteString("# ")
	for i := range fieldMeta {
		if i == staticFields {
			b.WriteString("-,")
		}
		b.WriteString(fieldMeta[i].name)
		b.WriteByte(',')
	}
	b.WriteByte('\n')
	return b.String()
}()

// csvQuote quotes s as HAProxy's csv_enc does when it holds a comma, a
// double quote or a line break.
func csvQuote(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// writeCSVRow writes one show stat CSV line.
func writeCSVRow(b *bytes.Buffer, r *Row, ctx *rowCtx) {
	for i := 0; i < numFields; i++ {
		if i == staticFields {
			b.WriteString("-,")
		}
		v := field(i, r, ctx)
		if v.ok {
			b.WriteString(csvQuote(v.String()))
		}
		b.WriteByte(',')
	}
	b.WriteByte('\n')
}
