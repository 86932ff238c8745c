package proxy

import "encoding/binary"

// send-proxy-v2-ssl and send-proxy-v2-ssl-cn: the PROXY v2 header to the
// server carries an SSL TLV (PP2_TYPE_SSL) describing the client's TLS on
// an ssl bind, as HAProxy writes it: the client flags, the verification
// result, then the version sub-TLV and, with -cn, the common name of the
// client's certificate.

// PROXY v2 TLV types (the PROXY protocol specification).
const (
	pp2TypeSSL        = 0x20
	pp2SubtypeVersion = 0x21
	pp2SubtypeCN      = 0x22

	pp2ClientSSL      = 0x01
	pp2ClientCertConn = 0x02
	pp2ClientCertSess = 0x04
)

// appendProxyV2SSL appends the SSL TLV to a v2 header h (as built by
// appendProxyV2) when the server asks for it and the client came over
// TLS, and fixes the header's length.
func (s *session) appendProxyV2SSL(h []byte) []byte {
	cfg := s.srv.Config.SSL
	if cfg == nil || !cfg.ProxyV2SSL || s.tls == nil || !s.tls.shook.Load() || len(h) < 16 {
		return h
	}
	info := &s.tls.info
	start := len(h)
	h = append(h, pp2TypeSSL, 0, 0)
	client := byte(pp2ClientSSL)
	if info.PeerCert != nil {
		client |= pp2ClientCertConn | pp2ClientCertSess
	}
	h = append(h, client, 0, 0, 0, 0) // verify: 0, X509_V_OK
	h = appendTLV(h, pp2SubtypeVersion, []byte(TLSVersionName(info.Version)))
	if cfg.ProxyV2SSLCN && info.PeerCert != nil {
		h = appendTLV(h, pp2SubtypeCN, []byte(info.PeerCert.Subject.CommonName))
	}
	binary.BigEndian.PutUint16(h[start+1:], uint16(len(h)-start-3))
	binary.BigEndian.PutUint16(h[14:], uint16(len(h)-16))
	return h
}
