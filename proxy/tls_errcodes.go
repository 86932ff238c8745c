package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
)

// OpenSSL's error of a failed handshake, as HAProxy's ssl_fc_err and
// ssl_fc_err_str give it (ERR_PACK(ERR_LIB_SSL, 0, reason) and its
// error string, OpenSSL 3), for the failures crypto/tls tells apart.
// A failure it cannot name gives 0, as a connection closed during the
// handshake does in HAProxy.

// sslErr is an OpenSSL packed error code; 0 is none.
type sslErr uint32

// sslLib is ERR_LIB_SSL in OpenSSL 3's packing (lib << 23).
const sslLib sslErr = 20 << 23

// The SSL reasons goproxy can tell, with OpenSSL's reason strings.
var sslReasons = map[sslErr]string{
	sslLib | 156:  "http request",
	sslLib | 155:  "https proxy request",
	sslLib | 267:  "wrong version number",
	sslLib | 258:  "unsupported protocol",
	sslLib | 193:  "no shared cipher",
	sslLib | 1040: "sslv3 alert handshake failure",
	sslLib | 1042: "sslv3 alert bad certificate",
	sslLib | 1043: "sslv3 alert unsupported certificate",
	sslLib | 1044: "sslv3 alert certificate revoked",
	sslLib | 1045: "sslv3 alert certificate expired",
	sslLib | 1046: "sslv3 alert certificate unknown",
	sslLib | 1048: "tlsv1 alert unknown ca",
	sslLib | 1049: "tlsv1 alert access denied",
	sslLib | 1050: "tlsv1 alert decode error",
	sslLib | 1051: "tlsv1 alert decrypt error",
	sslLib | 1070: "tlsv1 alert protocol version",
	sslLib | 1080: "tlsv1 alert internal error",
	sslLib | 1112: "tlsv1 unrecognized name",
	sslLib | 1116: "tlsv13 alert certificate required",
	sslLib | 1120: "tlsv1 alert no application protocol",
}

// goAlerts maps crypto/tls's texts of the alerts a client may send to
// their numbers (OpenSSL's reason is 1000 + the alert).
var goAlerts = map[string]sslErr{
	"handshake failure":              40,
	"bad certificate":                42,
	"unsupported certificate":        43,
	"revoked certificate":            44,
	"expired certificate":            45,
	"unknown certificate":            46,
	"unknown certificate authority":  48,
	"access denied":                  49,
	"error decoding message":         50,
	"error decrypting message":       51,
	"protocol version not supported": 70,
	"internal error":                 80,
	"unrecognized name":              112,
	"certificate required":           116,
	"no application protocol":        120,
}

// String is the error as OpenSSL's ERR_error_string() writes it, which
// HAProxy's ssl_fc_err_str gives; "" when unknown.
func (e sslErr) String() string {
	r, ok := sslReasons[e]
	if !ok {
		return ""
	}
	return fmt.Sprintf("error:%08X:SSL routines::%s", uint32(e), r)
}

// handshakeSSLErr names a failed handshake's error as OpenSSL would.
func handshakeSSLErr(err error) sslErr {
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		h := rh.RecordHeader[:]
		switch {
		case bytes.HasPrefix(h, []byte("GET ")), bytes.HasPrefix(h, []byte("POST ")),
			bytes.HasPrefix(h, []byte("HEAD ")), bytes.HasPrefix(h, []byte("PUT ")):
			return sslLib | 156
		case bytes.HasPrefix(h, []byte("CONNE")):
			return sslLib | 155
		}
		return sslLib | 267
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" && oe.Err != nil {
		if a, ok := goAlerts[strings.TrimPrefix(oe.Err.Error(), "tls: ")]; ok {
			return sslLib | (1000 + a)
		}
		return 0
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "client offered only unsupported versions"):
		return sslLib | 258
	case strings.Contains(msg, "no cipher suite supported by both client and server"):
		return sslLib | 193
	}
	return 0
}
