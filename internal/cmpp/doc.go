// Package cmpp holds a small CMPP (China Mobile Peer to Peer) toolkit for
// goproxy's demo and tests: PDU encoding and decoding, a gateway simulator
// (Gateway) and a client (Client). goproxy itself never parses CMPP on its
// data path; this package stands in for the SMS gateways and SP clients it
// sits between.
//
// Usage, a gateway in a test:
//
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	gw := &cmpp.Gateway{Name: "server1"}
//	go gw.Serve(ln)
//	defer gw.Close()
//
//	c, _ := cmpp.Dial(ctx, ln.Addr().String(), "")
//	resp, _ := c.Connect("901234", "", cmpp.Version30)
//	// resp.Gateway == "server1"
//
// How a client tells which gateway answered: a gateway puts its name into
// the AuthenticatorISMG field of CONNECT_RESP (16 bytes, zero-padded, cut at
// 16) and into the Msg_Id of SUBMIT_RESP (8 bytes, zero-padded, cut at 8).
// ACTIVE_TEST_RESP stays the standard 13 bytes (health checks match it
// byte for byte), so it carries no name: it comes back on the connection
// whose CONNECT_RESP already named the gateway.
//
// A gateway also answers plain text: a connection whose first byte cannot
// start a CMPP header (Total_Length is below 2^24, so its first byte is 0)
// gets one line "cmppgw NAME: LINE" for each line it sends, which makes
// `echo test | nc 127.0.0.1 9999` show which gateway answered.
//
// It imports the standard library and logrus.
package cmpp
