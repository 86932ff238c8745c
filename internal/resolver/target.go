package resolver

import (
	"net/netip"

	"github.com/sirupsen/logrus"
)

// Target is what the resolver changes on a server. *proxy.Server
// satisfies it.
type Target interface {
	// Dest is the address and port new sessions connect to.
	Dest() (netip.Addr, int)
	// SetAddr changes them (a port of 0 keeps the port).
	SetAddr(ip netip.Addr, port int)
	// ClearAddr removes the address (and the port).
	ClearAddr(clearPort bool)
	// SetResolutionMaint enters or leaves resolution maintenance with
	// HAProxy's cause and log lines, and reports whether it changed.
	SetResolutionMaint(on bool, cause string, log logrus.FieldLogger) bool
	// ResolutionMaint reports whether the server is in it.
	ResolutionMaint() bool
	// SetWeight sets the user weight (0..256).
	SetWeight(w int, log logrus.FieldLogger) error
	// FQDN and SetFQDN are the name the server resolves (fromSRV: the
	// target of an SRV record).
	FQDN() string
	SetFQDN(name string, fromSRV bool)
	// Label is "backend/server"; LogNotice logs a resolution event (to
	// the backend's log targets only when log is nil).
	Label() string
	LogNotice(msg string, log logrus.FieldLogger)
}

// Server is one server that resolves at run time.
type Server struct {
	Backend   string // servers of one backend never share an address (prevent-dup-ip)
	Resolvers string // the section's name
	Params    Params
	// FQDN is the host name; SRVRecord the SRV name of a template (one of
	// the two is set).
	FQDN, SRVRecord string
	Target          Target
}
