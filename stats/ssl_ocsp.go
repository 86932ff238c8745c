package stats

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"goproxy/internal/ocspresp"
)

// The OCSP stapling commands (management.txt): set ssl ocsp-response
// <base64|payload> and show ssl ocsp-response [id], with HAProxy's
// answers. Neither checks the level in HAProxy 2.6, so neither does here.

const (
	ocspUpdated    = "OCSP Response updated!\n"
	ocspNoMatch    = "Certificate ID does not match any certificate.\n"
	ocspKeyTooBig  = "'show ssl ocsp-response' received a too big key.\n"
	ocspNoDetail   = "goproxy does not print the details of an OCSP response; 'show ssl ocsp-response' lists the IDs.\n"
	ocspNeedBase64 = "'set ssl ocsp-response' expects response in base64 encoding.\n"
	ocspBadBase64  = "'set ssl ocsp-response' received invalid base64 encoded response.\n"
)

func init() {
	commandTable = append(commandTable,
		command{words: []string{"set", "ssl", "ocsp-response"}, level: LevelUser, run: cmdSetOCSPResponse},
		command{words: []string{"show", "ssl", "ocsp-response"}, level: LevelUser, run: cmdShowOCSPResponse},
	)
	for _, m := range []string{ocspNoMatch, ocspKeyTooBig, ocspNoDetail} {
		dataErrors[m] = true
	}
}

func cmdSetOCSPResponse(s *session, args []string) string {
	payload := s.payload
	if payload == "" {
		payload = argAt(args, 3)
	}
	payload = strings.NewReplacer("\r", "", "\n", "").Replace(payload)
	if payload == "" {
		return ocspNeedBase64
	}
	der, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return ocspBadBase64
	}
	if err := s.certs().SetOCSPResponse(der); err != nil {
		return err.Error() + ".\n"
	}
	return ocspUpdated
}

func cmdShowOCSPResponse(s *session, args []string) string {
	ids := s.certs().OCSPIDs()
	if key := argAt(args, 3); key != "" {
		if len(key) > 2*ocspresp.MaxCertIDLen {
			return ocspKeyTooBig
		}
		want, err := hex.DecodeString(key)
		for _, id := range ids {
			if err == nil && string(id) == string(want) {
				return ocspNoDetail
			}
		}
		return ocspNoMatch
	}
	var b strings.Builder
	b.WriteString("# Certificate IDs\n")
	for _, id := range ids {
		b.WriteString(ocspIDText(id))
	}
	return b.String()
}

// ocspIDText is one entry of show ssl ocsp-response: the key in hex, then
// the ID's fields as OpenSSL prints them (upper-case hex, the serial
// without its sign byte).
func ocspIDText(id []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Certificate ID key : %x\n", id)
	if f, err := ocspresp.ParseCertID(id); err == nil {
		serial := f.Serial.Bytes()
		if len(serial) == 0 {
			serial = []byte{0}
		}
		fmt.Fprintf(&b, " Certificate ID:\n   Issuer Name Hash: %X\n   Issuer Key Hash: %X\n   Serial Number: %X\n", f.NameHash, f.KeyHash, serial)
	}
	return b.String()
}
