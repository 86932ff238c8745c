package proxy

// The connection-error fetches of HAProxy (fc_err, fc_err_str, ssl_fc_err,
// ssl_fc_err_str), as "option httpslog"-style formats use them. A session
// goproxy serves is one whose connection succeeded: a connection that
// fails (a TLS handshake, a PROXY header) ends with its error line
// instead. So they read "no error" once the connection is established,
// and fail (may change) while a TLS handshake is still running, as in
// HAProxy.

func init() {
	fetchTable["fc_err"] = fetchDef{fn: fetchFcErr, match: "int"}
	fetchTable["fc_err_str"] = fetchDef{fn: fetchFcErrStr, match: "str"}
	fetchTable["ssl_fc_err"] = fetchDef{fn: fetchSSLFcErr, match: "int"}
	fetchTable["ssl_fc_err_str"] = fetchDef{fn: fetchSSLFcErrStr, match: "str"}
}

// connReady reports whether c's client connection is established (its
// TLS handshake, when it has one, done).
func connReady(c *connInfo) bool {
	return c.s == nil || c.s.tls == nil || c.s.tls.shook.Load()
}

func fetchFcErr(_ *fetchArgs, c *connInfo) (sample, bool) {
	if !connReady(c) {
		return sample{}, false
	}
	return intSample(0) // CO_ER_NONE
}

func fetchFcErrStr(_ *fetchArgs, c *connInfo) (sample, bool) {
	if !connReady(c) {
		return sample{}, false
	}
	return sample{typ: smpStr, b: []byte("Success")}, true
}

func fetchSSLFcErr(_ *fetchArgs, c *connInfo) (sample, bool) {
	if tlsInfoOf(c) == nil {
		return sample{}, false
	}
	return intSample(0)
}

// fetchSSLFcErrStr has no value: an established TLS session has no error.
func fetchSSLFcErrStr(_ *fetchArgs, _ *connInfo) (sample, bool) { return sample{}, false }
