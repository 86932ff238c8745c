package stats

import (
	"bytes"
	"strconv"
)

var objLetter = [...]byte{TypeFrontend: 'F', TypeBackend: 'B', TypeServer: 'S', TypeListener: 'L'}

func rowSID(r *Row) int {
	if r.Type == TypeFrontend || r.Type == TypeBackend {
		return 0
	}
	return r.SID
}

// writeTypedRow writes the non-empty fields of one row in the
// "show stat typed" format, with descriptions when desc is set.
func writeTypedRow(b *bytes.Buffer, r *Row, ctx *rowCtx, desc bool) {
	prefix := string(objLetter[r.Type]) + "." + strconv.Itoa(r.IID) + "." + strconv.Itoa(rowSID(r)) + "."
	for i := 0; i < numFields; i++ {
		v := field(i, r, ctx)
		if !v.ok {
			continue
		}
		tt := fieldMeta[i].kinds[r.Type]
		b.WriteString(prefix)
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('.')
		b.WriteString(fieldMeta[i].name)
		b.WriteString(".1:")
		b.WriteString(tt.tags)
		b.WriteByte(':')
		b.WriteString(tt.typ.String())
		b.WriteByte(':')
		b.WriteString(v.String())
		if desc {
			b.WriteString(":\"")
			b.WriteString(fieldMeta[i].desc)
			b.WriteByte('"')
		}
		b.WriteByte('\n')
	}
}
