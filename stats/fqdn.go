package stats

import (
	"errors"
	"fmt"

	"goproxy/internal/resolver"
)

// setServerFQDN answers "set server <b>/<s> fqdn <name>": the server
// resolves the new name through its resolvers section from now on, with
// HAProxy's answers (srv_update_fqdn's message as the warning).
func (s *session) setServerFQDN(r *Row, args []string) string {
	name := argAt(args, 4)
	if name == "" {
		return "set server <b>/<s> fqdn requires a FQDN.\n"
	}
	res := s.srv.Resolvers
	if res == nil {
		return "set server <b>/<s> fqdn failed because no resolution is configured.\n"
	}
	label := r.Proxy + "/" + r.Name
	old := res.FQDN(label)
	if old == name {
		return "no need to change the FDQN by 'stats socket command'\n"
	}
	if len(name) > 255 || !validDomain(name) {
		return fmt.Sprintf("invalid fqdn '%s' by 'stats socket command'\n", name)
	}
	switch err := res.SetFQDN(label, name); {
	case errors.Is(err, resolver.ErrSRV):
		return "set server <b>/<s> fqdn failed because SRV resolution is configured.\n"
	case err != nil:
		return "set server <b>/<s> fqdn failed because no resolution is configured.\n"
	}
	if old == "" {
		old = "(null)"
	}
	return fmt.Sprintf("%s changed its FQDN from %s to %s by 'stats socket command'\n", label, old, name)
}
