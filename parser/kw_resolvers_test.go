package parser

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestResolversSection(t *testing.T) {
	cfg, err := parseText(t, `resolvers dns
    nameserver ns1 127.0.0.1:53
    nameserver ns2 udp@[::1]:5353
    resolve_retries 5
    timeout resolve 2s
    timeout retry 300ms
    hold valid 20s
    hold nx 1s
    hold obsolete 5s
    accepted_payload_size 8192
resolvers two
backend be
    default-server resolvers dns resolve-prefer ipv4 resolve-net 10.0.0.0/255.0.0.0
    server s1 web.invalid:80 init-addr none resolve-opts allow-dup-ip,ignore-weight resolve-net fd00::/8
    server-template w 2-3 web.invalid:8080 init-addr none
    server-template v 2 _imap._tcp.mail.invalid init-addr none
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Resolvers) != 2 || cfg.DefaultResolvers == nil || !cfg.DefaultResolvers.Implicit {
		t.Fatalf("sections: %+v default %+v", cfg.Resolvers, cfg.DefaultResolvers)
	}
	r := cfg.Resolvers[0]
	if len(r.Nameservers) != 2 || r.Nameservers[1].Addr != netip.MustParseAddrPort("[::1]:5353") {
		t.Errorf("nameservers %+v", r.Nameservers)
	}
	if r.ResolveRetries != 5 || r.TimeoutResolve != 2*time.Second || r.TimeoutRetry != 300*time.Millisecond ||
		r.Hold.Valid != 20*time.Second || r.Hold.NX != time.Second || r.Hold.Obsolete != 5*time.Second ||
		r.Hold.Refused != 30*time.Second || r.AcceptedPayloadSize != 8192 {
		t.Errorf("settings %+v", r)
	}
	if d := cfg.Resolvers[1]; d.ResolveRetries != 3 || d.TimeoutResolve != time.Second || d.Hold.Valid != 10*time.Second || d.AcceptedPayloadSize != 512 {
		t.Errorf("defaults %+v", d)
	}
	be := cfg.Backend("be")
	var names []string
	for _, s := range be.Servers {
		names = append(names, s.Name)
	}
	if strings.Join(names, " ") != "s1 w2 w3 v1 v2" {
		t.Fatalf("servers %v", names)
	}
	s1 := be.Servers[0]
	if s1.Resolve.Resolvers != "dns" || !s1.Resolve.PreferIPv4 || !s1.Resolve.AllowDupIP || !s1.Resolve.IgnoreWeight ||
		len(s1.Resolve.ResolveNet) != 2 || s1.Resolve.ResolveNet[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("s1 %+v", s1.Resolve)
	}
	if !s1.Unresolved || s1.FQDN != "web.invalid" || s1.Disabled {
		t.Errorf("s1 unresolved %v fqdn %q disabled %v", s1.Unresolved, s1.FQDN, s1.Disabled)
	}
	if w := be.Servers[1]; w.FQDN != "web.invalid" || w.Addr.Port != 8080 || w.SRVRecord != "" || len(w.Resolve.ResolveNet) != 1 {
		t.Errorf("w2 %+v", w)
	}
	if v := be.Servers[4]; v.SRVRecord != "_imap._tcp.mail.invalid" || !v.Unresolved {
		t.Errorf("v2 %+v", v)
	}
}

func TestServerTemplateErrors(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"server-template w 1-20000 a.invalid:80", "'server-template' of 20000 servers is not supported by goproxy (at most 10000)."},
		{"server-template w 3-1 a.invalid:80", "Wrong server-template number or range arg '3-1'."},
		{"server-template w 2", "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments."},
		{"server s1 a.invalid:80 init-addr none resolvers nope", "backend 'be', server 's1': unable to find required resolvers 'nope'"},
	} {
		_, err := parseText(t, "backend be\n    "+c.line+"\n")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.line, err, c.want)
		}
	}
}
