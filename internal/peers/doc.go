// Package peers is HAProxy's peers protocol on the wire, version 2.1 as
// HAProxy 2.6 speaks it (docs/peers-v2.0.txt, src/peers.c): the hello
// and status lines of the handshake, the two-byte message headers of the
// control, error and stick-table classes, the variable-length integers,
// and the stick-table messages (definition, switch, updates with or
// without their id and expiry, acknowledgement) for every key type and
// every data type of HAProxy's enum.
//
// It encodes and decodes; it keeps no state and does no I/O of its own
// beyond reading messages from a bufio.Reader:
//
//	b := peers.AppendHello(nil, "remote", "local", pid)
//	m, err := peers.ReadMsg(br)          // a header and its payload
//	def, err := peers.DecodeDefine(m.Body)
//	u, err := peers.DecodeUpdate(m, def, keyLen)
//
// It is a leaf package: it imports nothing of goproxy's.
package peers
