package proxy

// Connection errors: why a client connection failed before it became a
// session (a PROXY header that never came or was wrong, a TLS handshake
// that failed), with HAProxy 2.6's codes (enum co_ex, what fc_err gives)
// and texts (conn_err_code_str, what its error line and fc_err_str say).

// connErr is HAProxy's connection error code; 0 is none.
type connErr uint8

const (
	cerrNone        connErr = 0
	cerrPrxEmpty    connErr = 11
	cerrPrxAbort    connErr = 12
	cerrPrxTimeout  connErr = 13
	cerrPrxTrunc    connErr = 14
	cerrPrxNotHdr   connErr = 15
	cerrPrxBadHdr   connErr = 16
	cerrPrxBadProto connErr = 17
	cerrSSLEmpty    connErr = 24
	cerrSSLAbort    connErr = 25
	cerrSSLTimeout  connErr = 26
	cerrSSLCAFail   connErr = 30
	cerrSSLCrtFail  connErr = 31
	cerrSSLHandshk  connErr = 34
)

var connErrText = map[connErr]string{
	cerrNone:        "Success",
	cerrPrxEmpty:    "Connection closed while waiting for PROXY protocol header",
	cerrPrxAbort:    "Connection error while waiting for PROXY protocol header",
	cerrPrxTimeout:  "Timeout while waiting for PROXY protocol header",
	cerrPrxTrunc:    "Truncated PROXY protocol header received",
	cerrPrxNotHdr:   "Received something which does not look like a PROXY protocol header",
	cerrPrxBadHdr:   "Received an invalid PROXY protocol header",
	cerrPrxBadProto: "Received an unhandled protocol in the PROXY protocol header",
	cerrSSLEmpty:    "Connection closed during SSL handshake",
	cerrSSLAbort:    "Connection error during SSL handshake",
	cerrSSLTimeout:  "Timeout during SSL handshake",
	cerrSSLCAFail:   "SSL client CA chain cannot be verified",
	cerrSSLCrtFail:  "SSL client certificate not trusted",
	cerrSSLHandshk:  "SSL handshake failure",
}

// String is HAProxy's text for the error.
func (e connErr) String() string { return connErrText[e] }

// nullConnErr reports whether option dontlognull leaves the error unlogged:
// a client that closed or reset before sending anything useful.
func (e connErr) nullConnErr() bool {
	switch e {
	case cerrNone, cerrPrxEmpty, cerrPrxAbort, cerrSSLEmpty, cerrSSLAbort:
		return true
	}
	return false
}
