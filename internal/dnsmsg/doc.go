// Package dnsmsg builds DNS queries and parses DNS responses (RFC 1035,
// RFC 2782 SRV, RFC 3596 AAAA, RFC 6891 EDNS0): the part of the protocol
// a runtime resolver of server addresses needs.
//
//	q, _ := dnsmsg.Query(id, "www.example.com", dnsmsg.TypeA, 512)
//	// send q over UDP, read the answer into buf
//	m, err := dnsmsg.Parse(buf)
//	for _, rr := range m.Answers { ... rr.IP, rr.Port, rr.Target ... }
//
// Parse never panics and bounds its work by the message's length: every
// name pointer must point backwards, so a loop cannot form.
package dnsmsg
