package resolver

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/dnsmsg"
)

// Section is one resolvers section at run time. Its state is guarded by
// mu: the section's goroutine holds it while it sends, reads and applies,
// the CLI while it changes a server's name.
type Section struct {
	name string
	cfg  *Config
	log  logrus.FieldLogger
	ns   []*nameserver
	wake chan struct{}

	mu      sync.Mutex
	res     []*resolution
	reqs    []*requester
	pending map[uint16]*resolution
	start   time.Time
	ranks   int // last freeRank given
}

type nameserver struct {
	name   string
	addr   netip.AddrPort
	stream bool
	conn   *net.UDPConn // a UDP nameserver's socket
	tcp    *streamNS    // a TCP one's connection (stream.go)
	ctr    counters
}

// requester is a server of the section with what it is attached to.
type requester struct {
	Server
	res     *resolution // its A/AAAA resolution (nil for an SRV one without a target yet)
	item    *item       // the address record it uses
	srvItem *item       // the SRV record it uses
	// freeRank orders the SRV servers without a record: a server that
	// loses its record goes after the others, as in HAProxy's list.
	freeRank int
}

// item is one record of a resolution's answers, kept until hold obsolete
// passes without it in an answer.
type item struct {
	key      string
	rec      dnsmsg.Record
	ar       netip.Addr // an SRV record's address from the additional section
	lastSeen time.Time
	owners   []*requester
}

// resolution is one name queried for its requesters.
type resolution struct {
	name     string
	prefer   uint16 // TypeA or TypeAAAA, or TypeSRV
	qtype    uint16 // the type being queried (the other family on fallback)
	reqs     []*requester
	id       uint16
	inflight bool
	fallback bool
	sentAt   time.Time
	tries    int
	last     time.Time // when the last resolution ended
	lastOK   time.Time // last valid answer (HAProxy's last_valid)
	items    []*item
}

func newSection(rc *Config, log logrus.FieldLogger) *Section {
	sec := &Section{name: rc.Name, cfg: rc, log: log, wake: make(chan struct{}, 1),
		pending: map[uint16]*resolution{}, start: time.Now()}
	for _, n := range rc.Nameservers {
		sec.ns = append(sec.ns, &nameserver{name: n.Name, addr: n.Addr, stream: n.Stream})
	}
	return sec
}

func (sec *Section) addServer(s Server) {
	sec.ranks++
	r := &requester{Server: s, freeRank: sec.ranks}
	sec.reqs = append(sec.reqs, r)
	if s.SRVRecord != "" {
		sec.attach(r, s.SRVRecord, dnsmsg.TypeSRV)
		return
	}
	sec.attach(r, s.FQDN, preferType(s.Params))
}

func preferType(p Params) uint16 {
	if p.PreferIPv4 {
		return dnsmsg.TypeA
	}
	return dnsmsg.TypeAAAA
}

// attach adds r to the resolution of name and type, created if needed;
// an SRV requester is attached to its SRV resolution only (its address
// resolution, if any, is found through its res field).
func (sec *Section) attach(r *requester, name string, typ uint16) *resolution {
	var res *resolution
	for _, x := range sec.res {
		if x.name == name && x.prefer == typ {
			res = x
			break
		}
	}
	if res == nil {
		res = &resolution{name: name, prefer: typ, qtype: typ, lastOK: sec.start}
		sec.res = append(sec.res, res)
	}
	res.reqs = append(res.reqs, r)
	if typ != dnsmsg.TypeSRV {
		r.res = res
	}
	return res
}

// detach removes r from res, and res once nobody uses it.
func (sec *Section) detach(r *requester, res *resolution) {
	if res == nil {
		return
	}
	for _, it := range res.items {
		it.owners = without(it.owners, r)
	}
	res.reqs = without(res.reqs, r)
	if len(res.reqs) > 0 {
		return
	}
	for i, x := range sec.res {
		if x == res {
			sec.res = append(sec.res[:i], sec.res[i+1:]...)
			break
		}
	}
	delete(sec.pending, res.id)
}

func without(list []*requester, r *requester) []*requester {
	out := list[:0]
	for _, x := range list {
		if x != r {
			out = append(out, x)
		}
	}
	return out
}

// setFQDN moves the server labelled label to a resolution of name.
func (sec *Section) setFQDN(label, name string) error {
	sec.mu.Lock()
	defer sec.mu.Unlock()
	for _, r := range sec.reqs {
		if r.Target.Label() != label {
			continue
		}
		if r.SRVRecord != "" {
			return ErrSRV
		}
		sec.detach(r, r.res)
		r.item = nil
		r.FQDN = name
		r.Target.SetFQDN(name, false)
		sec.attach(r, name, preferType(r.Params))
		select {
		case sec.wake <- struct{}{}:
		default:
		}
		return nil
	}
	return ErrNoResolution
}

// response is a datagram read from a nameserver.
type response struct {
	ns  *nameserver
	buf []byte
}

// run is the section's goroutine: it owns the nameservers' sockets and
// their readers, and ends when ctx is done.
func (sec *Section) run(ctx context.Context) {
	in := make(chan response, 64)
	var readers sync.WaitGroup
	for _, ns := range sec.ns {
		if ns.stream {
			ns.tcp = newStreamNS(ns, sec.cfg.TimeoutRetry)
			readers.Add(1)
			go func() {
				defer readers.Done()
				ns.tcp.run(ctx, in)
			}()
			continue
		}
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ns.addr))
		if err != nil {
			sec.log.WithError(err).Warnf("resolvers '%s': can't connect socket for nameserver '%s'", sec.name, ns.name)
			continue
		}
		ns.conn = c
		readers.Add(1)
		go func() {
			defer readers.Done()
			sec.read(ctx, ns, in)
		}()
	}
	defer func() {
		for _, ns := range sec.ns {
			if ns.conn != nil {
				ns.conn.Close()
			}
		}
		readers.Wait()
	}()
	tick := min(sec.cfg.TimeoutRetry, sec.cfg.TimeoutResolve, 100*time.Millisecond)
	tick = max(tick, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	sec.step(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-in:
			sec.handle(r, time.Now())
		case <-t.C:
			sec.step(time.Now())
		case <-sec.wake:
			sec.step(time.Now())
		}
	}
}

// read passes the datagrams of ns to in until its socket is closed.
func (sec *Section) read(ctx context.Context, ns *nameserver, in chan<- response) {
	buf := make([]byte, 65535)
	for {
		n, err := ns.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// ICMP port unreachable and the like: the query is lost.
			ns.ctr.anyErr.Add(1)
			continue
		}
		if n > sec.cfg.AcceptedPayloadSize && n > 512 {
			ns.ctr.tooBig.Add(1)
			continue
		}
		select {
		case in <- response{ns: ns, buf: append([]byte(nil), buf[:n]...)}:
		case <-ctx.Done():
			return
		}
	}
}

// period is how often a server's name is resolved: every timeout
// resolve (hold valid applies to do-resolve actions only).
func (sec *Section) period() time.Duration {
	return sec.cfg.TimeoutResolve
}

// step sends the queries that are due and gives up on those unanswered.
func (sec *Section) step(now time.Time) {
	sec.mu.Lock()
	defer sec.mu.Unlock()
	for _, res := range append([]*resolution(nil), sec.res...) {
		switch {
		case res.inflight && now.Sub(res.sentAt) >= sec.cfg.TimeoutRetry:
			res.tries++
			if res.tries >= max(sec.cfg.ResolveRetries, 1) {
				for _, ns := range sec.ns {
					ns.ctr.timeout.Add(1)
				}
				sec.failed(res, statusTimeout, now)
				continue
			}
			sec.send(res, now)
		case !res.inflight && (res.last.IsZero() || now.Sub(res.last) >= sec.period()):
			res.tries, res.fallback, res.qtype = 0, false, res.prefer
			sec.send(res, now)
		}
	}
}

// send queries every nameserver for res with a new id.
func (sec *Section) send(res *resolution, now time.Time) {
	delete(sec.pending, res.id)
	for {
		res.id = uint16(rand.Uint32())
		if _, used := sec.pending[res.id]; !used {
			break
		}
	}
	q, err := dnsmsg.Query(res.id, res.name, res.qtype, sec.cfg.AcceptedPayloadSize)
	res.inflight, res.sentAt = true, now
	if err != nil {
		for _, ns := range sec.ns {
			ns.ctr.sndError.Add(1)
		}
		sec.failed(res, statusOther, now)
		return
	}
	sec.pending[res.id] = res
	for _, ns := range sec.ns {
		if ns.tcp != nil {
			if !ns.tcp.send(q) {
				ns.ctr.sndError.Add(1)
				continue
			}
			ns.ctr.sent.Add(1)
			continue
		}
		if ns.conn == nil {
			ns.ctr.sndError.Add(1)
			continue
		}
		if _, err := ns.conn.Write(q); err != nil {
			ns.ctr.sndError.Add(1)
			continue
		}
		ns.ctr.sent.Add(1)
	}
}

// handle processes one datagram.
func (sec *Section) handle(r response, now time.Time) {
	sec.mu.Lock()
	defer sec.mu.Unlock()
	c := &r.ns.ctr
	m, err := dnsmsg.Parse(r.buf)
	if err != nil || !m.Response {
		c.invalid.Add(1)
		return
	}
	res := sec.pending[m.ID]
	if res == nil {
		// An answer to a query another nameserver answered already.
		c.outdated.Add(1)
		return
	}
	if len(m.Questions) != 1 || m.Questions[0].Name != res.name || m.Questions[0].Type != res.qtype {
		c.invalid.Add(1)
		return
	}
	if m.Truncated {
		c.truncated.Add(1)
		return
	}
	delete(sec.pending, m.ID)
	switch m.RCode {
	case dnsmsg.RCodeSuccess:
	case dnsmsg.RCodeNXDomain:
		c.nx.Add(1)
		sec.failed(res, statusNX, now)
		return
	case dnsmsg.RCodeRefused:
		c.refused.Add(1)
		sec.failed(res, statusRefused, now)
		return
	default:
		c.other.Add(1)
		sec.failed(res, statusOther, now)
		return
	}
	for _, rr := range m.Answers {
		if rr.Type == dnsmsg.TypeCNAME {
			c.cname.Add(1)
		}
	}
	updater := sec.name + "/" + r.ns.name
	if res.prefer == dnsmsg.TypeSRV {
		c.valid.Add(1)
		sec.answered(res, now)
		sec.applySRV(res, m, now)
		return
	}
	var ips []netip.Addr
	for _, rr := range m.Answers {
		if (rr.Type == dnsmsg.TypeA || rr.Type == dnsmsg.TypeAAAA) && rr.Type == res.qtype {
			ips = append(ips, rr.IP)
		}
	}
	if len(ips) == 0 && !res.fallback {
		// No record of the preferred family: ask for the other one.
		res.fallback = true
		res.qtype = dnsmsg.TypeA + dnsmsg.TypeAAAA - res.qtype
		sec.send(res, now)
		return
	}
	c.valid.Add(1)
	sec.answered(res, now)
	sec.applyIPs(res, ips, now, updater, c)
}

func (sec *Section) answered(res *resolution, now time.Time) {
	res.inflight, res.last, res.lastOK = false, now, now
}

// Resolution statuses.
const (
	statusNX = iota
	statusTimeout
	statusRefused
	statusOther
)

// failed ends a resolution without a valid answer: once the status's hold
// period has passed since the last valid answer, its servers go into
// resolution maintenance.
func (sec *Section) failed(res *resolution, status int, now time.Time) {
	res.inflight, res.last = false, now
	delete(sec.pending, res.id)
	h := sec.cfg.Hold
	hold, cause := map[int]time.Duration{statusNX: h.NX, statusTimeout: h.Timeout, statusRefused: h.Refused, statusOther: h.Other}[status],
		map[int]string{statusNX: "DNS NX status", statusTimeout: "DNS timeout status", statusRefused: "DNS refused status", statusOther: "unspecified DNS error"}[status]
	if now.Sub(res.lastOK) < hold {
		return
	}
	for _, r := range append([]*requester(nil), res.reqs...) {
		if res.prefer == dnsmsg.TypeSRV {
			sec.dropSRV(r)
			continue
		}
		for _, it := range res.items {
			it.owners = without(it.owners, r)
		}
		r.item = nil
		if r.Target.SetResolutionMaint(true, cause, sec.log) {
			r.Target.ClearAddr(false)
		}
	}
	if res.prefer != dnsmsg.TypeSRV {
		res.items = nil
	}
}
