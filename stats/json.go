package stats

import (
	"bytes"
	"strconv"
)

var objName = [...]string{TypeFrontend: "Frontend", TypeBackend: "Backend", TypeServer: "Server", TypeListener: "Listener"}

var (
	originNames = map[byte]string{'M': "Metric", 'S': "Status", 'K': "Key", 'C': "Config", 'P': "Product"}
	natureNames = map[byte]string{'G': "Gauge", 'L': "Limit", 'm': "Min", 'M': "Max", 'R': "Rate",
		'C': "Counter", 'D': "Duration", 'A': "Age", 'T': "Time", 'N': "Name", 'O': "Output", 'a': "Avg"}
	scopeNames = map[byte]string{'P': "Process", 'S': "Service", 's': "System", 'C': "Cluster"}
)

// jsonString writes s as a JSON string.
func jsonString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// writeJSONTagsValue writes `"tags":{...},"value":{...}}` for one field.
func writeJSONTagsValue(b *bytes.Buffer, tags string, v value) {
	b.WriteString(`"tags":{"origin":"`)
	b.WriteString(originNames[tags[0]])
	b.WriteString(`","nature":"`)
	b.WriteString(natureNames[tags[1]])
	b.WriteString(`","scope":"`)
	b.WriteString(scopeNames[tags[2]])
	b.WriteString(`"},"value":{"type":"`)
	b.WriteString(v.typ.String())
	b.WriteString(`","value":`)
	if v.typ == tStr {
		jsonString(b, v.str)
	} else {
		b.WriteString(v.String())
	}
	b.WriteString("}}")
}

// writeJSONRow writes one row as a JSON array of field objects.
func writeJSONRow(b *bytes.Buffer, r *Row, ctx *rowCtx) {
	b.WriteByte('[')
	head := `{"objType":"` + objName[r.Type] + `","proxyId":` + strconv.Itoa(r.IID) +
		`,"id":` + strconv.Itoa(rowSID(r)) + `,"field":{"pos":`
	first := true
	for i := 0; i < numFields; i++ {
		v := field(i, r, ctx)
		if !v.ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(head)
		b.WriteString(strconv.Itoa(i))
		b.WriteString(`,"name":"`)
		b.WriteString(fieldMeta[i].name)
		b.WriteString(`"},"processNum":1,`)
		writeJSONTagsValue(b, fieldMeta[i].kinds[r.Type].tags, v)
	}
	b.WriteByte(']')
}
