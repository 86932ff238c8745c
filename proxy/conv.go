package proxy

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"

	"goproxy/internal/mqtt"
	"goproxy/internal/stktable"
	"goproxy/internal/tlshello"
	"goproxy/parser"
)

// Converters transform a fetched sample; ACLs, use_backend %[...] names
// and log-format %[...] apply them through sampleExpr, the one code path.
// As HAProxy, a converter first casts its input to the type it takes
// (sample_casts); a cast or a converter that fails leaves no sample.

// convKind is a converter.
type convKind uint8

const (
	cvLower convKind = iota
	cvUpper
	cvHex
	cvBytes
	cvIPMask
	cvMap
	cvTable // table_*: a stick table's data for the key (fetch_stick.go)
	cvMQTTValid
	cvMQTTField
)

// Cast targets: the sample types plus "addr", an address of either family.
const (
	castStr uint8 = iota
	castBin
	castInt
	castAddr
	castAny // no cast (the table_* converters cast to their table's key)
)

// converter is a compiled converter.
type converter struct {
	kind convKind
	in   uint8 // the cast its input goes through
	// bytes(off[,len]); len < 0: to the end.
	off, length int64
	// ipmask(mask4[,mask6]); mask6 < 0: none (an IPv6 input fails).
	mask4, mask6 int
	// maps: the pattern set looked up and the default value.
	set    *mapSet
	def    sample
	hasDef bool
	// table_*: the table looked up and the data read.
	tbl  *stktable.Table
	data stickData
	// mqtt_field_value: the packet type and the field.
	mqttType  int
	mqttField mqtt.Field
}

// compileConverters compiles the converters the parser validated.
func compileConverters(convs []parser.Converter, maps *compileEnv) ([]converter, error) {
	var out []converter
	for _, pc := range convs {
		c := converter{length: -1, mask6: -1}
		atoi := func(i int) int64 {
			n, _ := strconv.ParseInt(argOr(pc.Args, i), 10, 64)
			return n
		}
		switch pc.Name {
		case "lower":
			c.kind, c.in = cvLower, castStr
		case "upper":
			c.kind, c.in = cvUpper, castStr
		case "hex":
			c.kind, c.in = cvHex, castBin
		case "bytes":
			c.kind, c.in = cvBytes, castBin
			c.off = atoi(0)
			if argOr(pc.Args, 1) != "" {
				c.length = atoi(1)
			}
		case "mqtt_is_valid", "mqtt_field_value":
			if err := c.compileMQTT(pc); err != nil {
				return nil, err
			}
		case "ipmask":
			c.kind, c.in = cvIPMask, castAddr
			c.mask4, _ = parser.ParseMask4(argOr(pc.Args, 0))
			if v := argOr(pc.Args, 1); v != "" {
				c.mask6, _ = strconv.Atoi(v)
			}
		default:
			if parser.StickConverters[pc.Name] {
				if err := c.compileTable(pc, maps); err != nil {
					return nil, err
				}
				break
			}
			if pc.Map == nil {
				return nil, fmt.Errorf("unsupported converter '%s'", pc.Name)
			}
			ref := maps.mapRef(pc.Map)
			if ref == nil {
				return nil, fmt.Errorf("converter '%s': map file '%s' not loaded", pc.Name, pc.Map.File)
			}
			c.kind = cvMap
			c.set = ref.set(pc.MapMatch, pc.MapOut)
			switch pc.MapMatch {
			case "int":
				c.in = castInt
			case "ip":
				c.in = castAddr
			default:
				c.in = castStr
			}
			if d := argOr(pc.Args, 1); d != "" {
				v, ok := parseMapValue(pc.MapOut, d)
				if !ok {
					return nil, fmt.Errorf("converter '%s': invalid default value '%s'", pc.Name, d)
				}
				c.def, c.hasDef = v, true
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func argOr(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

// applyConverters runs convs on smp; false when one leaves no sample.
func applyConverters(convs []converter, smp *sample) bool {
	for i := range convs {
		if !convs[i].apply(smp) {
			return false
		}
	}
	return true
}

// apply casts the sample and converts it.
func (c *converter) apply(smp *sample) bool {
	if !castSample(smp, c.in) {
		return false
	}
	smp.list = false
	switch c.kind {
	case cvLower:
		smp.b = bytes.ToLower(smp.b)
	case cvUpper:
		smp.b = bytes.ToUpper(smp.b)
	case cvHex:
		out := make([]byte, hex.EncodedLen(len(smp.b)))
		hex.Encode(out, smp.b)
		smp.b, smp.typ = bytes.ToUpper(out), smpStr
	case cvBytes:
		// As HAProxy: an offset at or past the end (or negative) leaves
		// an empty sample; a negative length is no limit.
		if c.off < 0 || int64(len(smp.b)) <= c.off {
			smp.b = smp.b[:0]
			return true
		}
		smp.b = smp.b[c.off:]
		if c.length >= 0 && c.length < int64(len(smp.b)) {
			smp.b = smp.b[:c.length]
		}
	case cvIPMask:
		ip := smp.ip
		bits := c.mask4
		if !ip.Is4() {
			if c.mask6 < 0 {
				return false
			}
			bits = c.mask6
		}
		p, err := ip.Prefix(bits)
		if err != nil {
			return false
		}
		smp.ip = p.Addr()
	case cvTable:
		return c.tableData(smp)
	case cvMQTTValid, cvMQTTField:
		return c.applyMQTT(smp)
	case cvMap:
		if c.set.match == "regm" {
			v, matched, ok := c.set.lookupRegm(smp.b, parser.DefaultBufSize)
			switch {
			case matched && !ok:
				return false
			case !matched && !c.hasDef:
				return false
			case !matched:
				v = c.def
			}
			*smp = sample{typ: v.typ, b: v.b, mayChange: smp.mayChange}
			return true
		}
		v, ok := c.set.lookup(smp)
		if !ok {
			if !c.hasDef {
				return false
			}
			v = c.def
		}
		*smp = sample{typ: v.typ, i: v.i, b: v.b, ip: v.ip, mayChange: smp.mayChange}
	}
	return true
}

// castSample casts smp to a converter's input type as HAProxy's
// sample_casts; false when there is no such cast.
func castSample(smp *sample, to uint8) bool {
	switch to {
	case castStr:
		switch smp.typ {
		case smpStr:
		case smpBin:
			smp.b = binToStr(smp)
		case smpInt, smpBool:
			smp.b = strconv.AppendInt(nil, smp.i, 10)
		case smpIP:
			smp.b = []byte(smp.ip.String())
		default:
			return false
		}
		smp.typ = smpStr
	case castBin:
		switch smp.typ {
		case smpStr, smpBin:
		case smpInt, smpBool:
			smp.b = binary.BigEndian.AppendUint64(nil, uint64(smp.i))
		case smpIP:
			smp.b = smp.ip.AsSlice()
		default:
			return false
		}
		smp.typ = smpBin
	case castInt:
		switch smp.typ {
		case smpInt, smpBool:
		case smpStr:
			smp.i, _ = leadingInt(smp.b) // no digits: 0, as HAProxy
		case smpIP:
			ip := smp.ip.Unmap()
			if !ip.Is4() {
				return false
			}
			b := ip.As4()
			smp.i = int64(binary.BigEndian.Uint32(b[:]))
		default:
			return false
		}
		smp.typ = smpInt
	case castAddr:
		switch smp.typ {
		case smpIP:
		case smpInt:
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], uint32(smp.i))
			smp.ip = netip.AddrFrom4(b)
		case smpStr:
			ip, err := netip.ParseAddr(string(smp.b))
			if err != nil || ip.Zone() != "" {
				return false
			}
			smp.ip = ip
		default:
			return false
		}
		smp.typ = smpIP
	}
	return true
}

// sampleExpr is a fetch with its converters: the value of a use_backend
// %[...] name or of a log-format %[...].
type sampleExpr struct {
	crit  string
	fetch fetchFn
	fa    fetchArgs
	l6    bool
	conv  []converter
}

// compileSampleExpr compiles a fetch and its converters.
func compileSampleExpr(name string, args []string, convs []parser.Converter, maps *compileEnv) (*sampleExpr, error) {
	name = canonicalFetch(name)
	f, ok := fetchTable[name]
	if !ok {
		return nil, fmt.Errorf("unsupported fetch '%s'", name)
	}
	e := &sampleExpr{crit: name, fetch: f.fn, l6: f.l6}
	if err := e.fa.parse(name, args); err != nil {
		return nil, err
	}
	if err := e.fa.resolveTable(name, maps); err != nil {
		return nil, err
	}
	conv, err := compileConverters(convs, maps)
	if err != nil {
		return nil, err
	}
	e.conv = conv
	return e, nil
}

// eval fetches and converts; false when there is no sample (yet).
func (e *sampleExpr) eval(ci *connInfo) (sample, bool) {
	if e.l6 && ci.conn {
		return sample{}, false
	}
	smp, ok := e.fetch(&e.fa, ci)
	if !ok {
		return smp, false
	}
	if smp.list {
		// A list (ALPN) gives its first value outside of ACLs.
		p, _, ok := tlshello.NextProtocol(smp.b)
		if !ok {
			return sample{}, false
		}
		smp = sample{typ: smpStr, b: p}
	}
	if !applyConverters(e.conv, &smp) {
		return sample{}, false
	}
	return smp, true
}

// appendSampleText appends a sample as HAProxy's log formats print it:
// a string (a binary one through the cast, ending at its first NUL).
func appendSampleText(b []byte, smp *sample) []byte {
	switch smp.typ {
	case smpStr:
		return append(b, smp.b...)
	case smpBin:
		return append(b, binToStr(smp)...)
	case smpIP:
		return smp.ip.AppendTo(b)
	}
	return strconv.AppendInt(b, smp.i, 10)
}
