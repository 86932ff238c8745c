package proxy

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"goproxy/internal/srvstate"
	"goproxy/internal/stktable"
	"goproxy/internal/tlshello"
)

// fetchFn fetches a sample; false when there is none (then mayChange tells
// whether more data could bring one).
type fetchFn func(fa *fetchArgs, c *connInfo) (sample, bool)

// fetchArgs are a fetch's compiled arguments.
type fetchArgs struct {
	off, size    int
	off2         int
	off2Set, rel bool
	proxy, srv   string // backend (or frontend) and server names
	vr           varRef // var()
	def          string // var()'s default
	hasDef       bool
	konst        sample          // int(), str(), bool(), bin(), ipv4(), ipv6()
	table        *stktable.Table // the table argument of sc<n>_*, sc_*, src_*, table_cnt
	ctr          int             // the sticky counter of sc_*(<ctr>), -1 for none there is
}

// parse compiles the arguments the parser validated.
func (fa *fetchArgs) parse(name string, args []string) error {
	atoi := func(s string) int { n, _ := strconv.Atoi(strings.TrimPrefix(s, "+")); return n }
	switch name {
	case "req.payload", "req.payload_lv":
		if len(args) < 2 {
			return fmt.Errorf("'%s' expects an offset and a length", name)
		}
		fa.off, fa.size = atoi(args[0]), atoi(args[1])
		if len(args) > 2 {
			fa.off2Set = true
			fa.rel = strings.HasPrefix(args[2], "+") || strings.HasPrefix(args[2], "-")
			fa.off2 = atoi(args[2])
		}
	case "srv_is_up", "srv_conn", "srv_queue", "srv_sess_rate":
		// "[<backend>/]<server>": without a backend, the proxy's own.
		if b, srv, ok := strings.Cut(argOr(args, 0), "/"); ok {
			fa.proxy, fa.srv = b, srv
		} else {
			fa.srv = b
		}
	case "capture.req.hdr":
		fa.off = atoi(args[0])
	case "int":
		n, _ := strconv.ParseInt(args[0], 10, 64)
		fa.konst = sample{typ: smpInt, i: n}
	case "str":
		fa.konst = sample{typ: smpStr, b: []byte(argOr(args, 0))}
	case "bool":
		fa.konst = sample{typ: smpBool}
		if args[0] == "true" || args[0] == "1" {
			fa.konst.i = 1
		}
	case "bin":
		b, _ := hex.DecodeString(args[0])
		fa.konst = sample{typ: smpBin, b: b}
	case "ipv4", "ipv6":
		ip, _ := netip.ParseAddr(args[0])
		fa.konst = sample{typ: smpIP, ip: ip}
	case "var":
		fa.vr = newVarRef(args[0])
		if len(args) > 1 {
			fa.def, fa.hasDef = args[1], true
		}
	default:
		if strings.HasPrefix(name, "sc_") && len(args) > 0 {
			// sc_*(<ctr>[,<table>]): a counter HAProxy does not have (its
			// unsigned value past MAX_SESS_STKCTR) gives no sample.
			fa.ctr = -1
			if n, err := strconv.ParseInt(args[0], 10, 64); err == nil && n >= 0 && n < maxStickCtr {
				fa.ctr = int(n)
			}
			args = args[1:]
		}
		if len(args) > 0 {
			fa.proxy = args[0]
		}
	}
	return nil
}

// fetchDef is one fetch: its function, its ACL keyword's default matching
// method, and whether it reads the client's bytes.
type fetchDef struct {
	fn    fetchFn
	match string
	l6    bool
}

var fetchTable map[string]fetchDef

func init() {
	fetchTable = map[string]fetchDef{
		"src":                {fetchSrc, "ip", false},
		"dst":                {fetchDst, "ip", false},
		"src_port":           {fetchSrcPort, "int", false},
		"dst_port":           {fetchDstPort, "int", false},
		"always_true":        {fetchTrue, "bool", false},
		"always_false":       {fetchFalse, "bool", false},
		"req.len":            {fetchReqLen, "int", true},
		"req.payload":        {fetchPayload, "bin", true},
		"req.payload_lv":     {fetchPayloadLV, "bin", true},
		"req.ssl_sni":        {fetchSSLSNI, "str", true},
		"req.ssl_hello_type": {fetchSSLHelloType, "int", true},
		"req.ssl_ver":        {fetchSSLVer, "ver", true},
		"req.ssl_alpn":       {fetchSSLALPN, "str", true},
		"req.ssl_ec_ext":     {fetchSSLECExt, "bool", true},
		"fe_name":            {fetchFeName, "str", false},
		"be_name":            {fetchBeName, "str", false},
		"fe_id":              {fetchFeID, "int", false},
		"so_id":              {fetchSoID, "int", false},
		"prio_class":         {fetchPrioClass, "int", false},
		"prio_offset":        {fetchPrioOffset, "int", false},
		"fe_conn":            {fetchFeConn, "int", false},
		"nbsrv":              {fetchNbsrv, "int", false},
		"be_conn":            {fetchBeConn, "int", false},
		"connslots":          {fetchConnslots, "int", false},
		"queue":              {fetchQueue, "int", false},
		"srv_is_up":          {fetchSrvIsUp, "bool", false},
		"var":                {fetchVar, "str", false},
		"fc_pp_authority":    {fetchPPAuthority, "str", false},
		"fc_pp_unique_id":    {fetchPPUniqueID, "str", false},
		"unique-id":          {fetchUniqueID, "str", false},
		"capture.req.hdr":    {fetchCaptureReqHdr, "str", false},
		"int":                {fetchConst, "int", false},
		"str":                {fetchConst, "str", false},
		"bool":               {fetchConst, "bool", false},
		"bin":                {fetchConst, "bin", false},
		"ipv4":               {fetchConst, "ip", false},
		"ipv6":               {fetchConst, "ip", false},
	}
}

// canonicalFetch maps HAProxy's older spellings to the current names.
func canonicalFetch(name string) string {
	switch name {
	case "req_len":
		return "req.len"
	case "req_ssl_sni":
		return "req.ssl_sni"
	case "req_ssl_hello_type":
		return "req.ssl_hello_type"
	case "req_ssl_ver":
		return "req.ssl_ver"
	case "payload":
		return "req.payload"
	case "payload_lv":
		return "req.payload_lv"
	}
	return name
}

func intSample(v int64) (sample, bool) { return sample{typ: smpInt, i: v}, true }
func boolSample(v bool) (sample, bool) {
	if v {
		return sample{typ: smpBool, i: 1}, true
	}
	return sample{typ: smpBool}, true
}

// tooShort is the answer of a fetch that needs more client bytes.
func tooShort() (sample, bool) { return sample{mayChange: true}, false }

// The address fetches fail when the session has no IP addresses (a
// UNIX client), as HAProxy's for an address of another family.

func fetchSrc(_ *fetchArgs, c *connInfo) (sample, bool) {
	return sample{typ: smpIP, ip: c.src.Addr()}, c.src.IsValid()
}

func fetchDst(_ *fetchArgs, c *connInfo) (sample, bool) {
	if !c.dst.IsValid() && c.s != nil {
		c.dst = c.s.dstAddr()
	}
	return sample{typ: smpIP, ip: c.dst.Addr()}, c.dst.IsValid()
}

func fetchSrcPort(_ *fetchArgs, c *connInfo) (sample, bool) {
	return sample{typ: smpInt, i: int64(c.src.Port())}, c.src.IsValid()
}

func fetchDstPort(_ *fetchArgs, c *connInfo) (sample, bool) {
	if !c.dst.IsValid() && c.s != nil {
		c.dst = c.s.dstAddr()
	}
	return sample{typ: smpInt, i: int64(c.dst.Port())}, c.dst.IsValid()
}

func fetchTrue(*fetchArgs, *connInfo) (sample, bool)  { return boolSample(true) }
func fetchFalse(*fetchArgs, *connInfo) (sample, bool) { return boolSample(false) }

func fetchReqLen(_ *fetchArgs, c *connInfo) (sample, bool) {
	return sample{typ: smpInt, i: int64(len(c.req)), mayChange: true}, true
}

// fetchPayload is req.payload(off,len): len bytes at off, or from off to
// the end of what arrived when len is 0.
func fetchPayload(fa *fetchArgs, c *connInfo) (sample, bool) {
	off, size := fa.off, fa.size
	if lim := c.bufLimit(); size > lim || off+size > lim {
		return sample{}, false // will never match
	}
	if off+size > len(c.req) {
		return tooShort()
	}
	if size == 0 {
		return sample{typ: smpBin, b: c.req[off:], mayChange: true}, true
	}
	return sample{typ: smpBin, b: c.req[off : off+size]}, true
}

// fetchPayloadLV is req.payload_lv(off1,len[,off2]): a block whose size is
// the big-endian integer of len bytes at off1, starting right after that
// field, or at off2. As HAProxy 2.6 (payload.c stores off2 shifted left
// with the low bit marking "relative", but leaves an absolute one
// unshifted): a signed off2 is relative to the end of the length field, an
// absolute even one counts as off2/2, an absolute odd one as relative
// (off2>>1). An empty block never matches.
func fetchPayloadLV(fa *fetchArgs, c *connInfo) (sample, bool) {
	if fa.off+fa.size > len(c.req) {
		return tooShort()
	}
	size := 0
	for _, b := range c.req[fa.off : fa.off+fa.size] {
		size = size<<8 | int(b)
		if size > c.bufLimit() {
			return sample{}, false
		}
	}
	off := fa.off + fa.size
	if fa.off2Set {
		switch {
		case fa.rel:
			off += fa.off2
		case fa.off2&1 != 0:
			off += fa.off2 >> 1
		default:
			off = fa.off2 >> 1
		}
	}
	if size == 0 || off < 0 || off+size > c.bufLimit() {
		return sample{}, false
	}
	if off+size > len(c.req) {
		return tooShort()
	}
	return sample{typ: smpBin, b: c.req[off : off+size]}, true
}

func fetchSSLSNI(_ *fetchArgs, c *connInfo) (sample, bool) {
	h, st := tlshello.Parse(c.req)
	if st != tlshello.OK {
		return helloFail(st)
	}
	if h.SNI == nil {
		return sample{}, false
	}
	return sample{typ: smpStr, b: h.SNI}, true
}

func fetchSSLALPN(_ *fetchArgs, c *connInfo) (sample, bool) {
	h, st := tlshello.Parse(c.req)
	if st != tlshello.OK {
		return helloFail(st)
	}
	if h.ALPN == nil {
		return sample{}, false
	}
	// One value per protocol of the list, as HAProxy.
	return sample{typ: smpStr, b: h.ALPN, list: true}, true
}

func fetchSSLECExt(_ *fetchArgs, c *connInfo) (sample, bool) {
	h, st := tlshello.Parse(c.req)
	if st != tlshello.OK {
		return helloFail(st)
	}
	return boolSample(h.ECExt)
}

func fetchSSLHelloType(_ *fetchArgs, c *connInfo) (sample, bool) {
	t, st := tlshello.HandshakeType(c.req)
	if st != tlshello.OK {
		return helloFail(st)
	}
	return intSample(int64(t))
}

func fetchSSLVer(_ *fetchArgs, c *connInfo) (sample, bool) {
	v, st := tlshello.RequestVersion(c.req, c.bufLimit())
	if st != tlshello.OK {
		return helloFail(st)
	}
	return intSample(int64(v))
}

func helloFail(st tlshello.Status) (sample, bool) {
	if st == tlshello.Short {
		return tooShort()
	}
	return sample{}, false
}

func fetchFeName(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil {
		return sample{}, false
	}
	return sample{typ: smpStr, b: []byte(c.s.fe.Name)}, true
}

// fetchBeName is be_name: the backend once chosen (its content rules); in
// the frontend's rules it never matches, as HAProxy warns at startup.
func fetchBeName(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil || c.s.be == nil {
		return sample{}, false
	}
	return sample{typ: smpStr, b: []byte(c.s.be.Name)}, true
}

func fetchFeID(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil {
		return sample{}, false
	}
	return intSample(int64(c.s.fe.ID))
}

func fetchSoID(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil || c.s.ln == nil {
		return sample{}, false
	}
	return intSample(int64(c.s.ln.ID))
}

func fetchFeConn(fa *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil {
		return sample{}, false
	}
	fe := c.s.fe
	if fa.proxy != "" {
		if fe = c.s.l.g.Frontend(fa.proxy); fe == nil {
			return sample{}, false
		}
	}
	return intSample(fe.ctr.live.Load())
}

// backendOf resolves a fetch's backend argument: the named one, else the
// session's backend, else the listen section's own.
func backendOf(fa *fetchArgs, c *connInfo) *Backend {
	if c.s == nil {
		return nil
	}
	g := c.s.l.g
	if fa.proxy != "" {
		return g.Backend(fa.proxy)
	}
	if c.s.be != nil {
		return c.s.be
	}
	return g.Backend(c.s.fe.Name)
}

func fetchNbsrv(fa *fetchArgs, c *connInfo) (sample, bool) {
	b := backendOf(fa, c)
	if b == nil {
		return intSample(0)
	}
	return intSample(int64(b.usableCount(len(b.ServerList()) + 1)))
}

func fetchBeConn(fa *fetchArgs, c *connInfo) (sample, bool) {
	b := backendOf(fa, c)
	if b == nil {
		return intSample(0)
	}
	n := b.ctr.cur.Load()
	if c.ending && c.s.be == b {
		n-- // as HAProxy logs it, the session has left its backend
	}
	return intSample(n)
}

func fetchQueue(fa *fetchArgs, c *connInfo) (sample, bool) {
	b := backendOf(fa, c)
	if b == nil {
		return intSample(0)
	}
	n := b.qlen.Load()
	for _, s := range b.ServerList() {
		n += s.Queued()
	}
	return intSample(n)
}

// fetchConnslots is connslots: the free connection and queue places of the
// backend's running servers, -1 when one is unlimited (as HAProxy).
func fetchConnslots(fa *fetchArgs, c *connInfo) (sample, bool) {
	b := backendOf(fa, c)
	if b == nil {
		return intSample(0)
	}
	n := int64(0)
	for _, s := range b.ServerList() {
		if !s.Running() {
			continue
		}
		mc, mq := s.MaxConn(), int64(s.Config.MaxQueue)
		if mc == 0 || mq == 0 {
			return intSample(-1)
		}
		n += mc - s.Served() + mq - s.Queued()
	}
	return intSample(n)
}

func fetchSrvIsUp(fa *fetchArgs, c *connInfo) (sample, bool) {
	s := serverOf(fa, c)
	if s == nil {
		return sample{}, false
	}
	return boolSample(s.Running() && s.Admin()&srvstate.AdminForcedMaint == 0)
}

// fetchConst is a constant: int(), str(), bool(), bin(), ipv4(), ipv6().
func fetchConst(fa *fetchArgs, _ *connInfo) (sample, bool) { return fa.konst, true }
