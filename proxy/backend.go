package proxy

import "goproxy/parser"

// Backend is a backend (or the backend half of a listen section).
type Backend struct {
	Name    string
	ID      int // iid
	Config  *parser.Proxy
	Servers []*Server
	lb      balancer
}
