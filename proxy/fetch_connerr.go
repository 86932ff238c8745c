package proxy

// The connection-error fetches of HAProxy (fc_err, fc_err_str, ssl_fc_err,
// ssl_fc_err_str), as "option httpslog"-style formats and error-log-format
// use them. A connection that failed before becoming a session (its PROXY
// header, its TLS handshake) has its error (connerr.go) for its error
// line; an established one reads "no error"; during a TLS handshake they
// have no value (may change), as in HAProxy.

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
	if c.s != nil && c.s.cerr != cerrNone {
		return intSample(int64(c.s.cerr))
	}
	if !connReady(c) {
		return sample{}, false
	}
	return intSample(0) // CO_ER_NONE
}

func fetchFcErrStr(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s != nil && c.s.cerr != cerrNone {
		return sample{typ: smpStr, b: []byte(c.s.cerr.String())}, true
	}
	if !connReady(c) {
		return sample{}, false
	}
	return sample{typ: smpStr, b: []byte("Success")}, true
}

// failedTLS is the TLS connection of a session whose handshake failed.
func failedTLS(c *connInfo) *tlsConn {
	if c.s == nil || c.s.cerr == cerrNone || c.s.tls == nil {
		return nil
	}
	return c.s.tls
}

func fetchSSLFcErr(_ *fetchArgs, c *connInfo) (sample, bool) {
	if t := failedTLS(c); t != nil {
		return intSample(int64(t.failed))
	}
	if tlsInfoOf(c) == nil {
		return sample{}, false
	}
	return intSample(0)
}

// fetchSSLFcErrStr is OpenSSL's reason for a failed handshake; an
// established TLS session has no error, hence no value.
func fetchSSLFcErrStr(_ *fetchArgs, c *connInfo) (sample, bool) {
	t := failedTLS(c)
	if t == nil || t.failed.String() == "" {
		return sample{}, false
	}
	return sample{typ: smpStr, b: []byte(t.failed.String())}, true
}
