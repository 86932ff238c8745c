package parser

import (
	"fmt"
	"strings"
)

// PPv2Options are a server's proxy-v2-options that goproxy sends: the
// TLVs it adds to the PROXY v2 header.
type PPv2Options struct {
	CRC32C    bool `json:",omitempty"` // a checksum of the header
	Authority bool `json:",omitempty"` // the authority the client's own PROXY header carried
	UniqueID  bool `json:",omitempty"` // the unique id (none without unique-id-format)
}

// parsePPv2Options parses the list of proxy-v2-options: "" when valid,
// else the message of serverParamErr. As HAProxy, the option turns
// send-proxy-v2 on.
func parsePPv2Options(sp *ServerParams, list string) string {
	for _, o := range strings.Split(list, ",") {
		switch o {
		case "crc32c":
			sp.PPv2.CRC32C = true
		case "authority":
			sp.PPv2.Authority = true
		case "unique-id":
			sp.PPv2.UniqueID = true
		case "ssl", "cert-cn", "ssl-cipher", "cert-sig", "cert-key":
			return fmt.Sprintf("'proxy-v2-options %s' is not supported by goproxy (TLS TLVs need TLS termination)", o)
		default:
			return fmt.Sprintf("'%s' : proxy v2 option not implemented", o)
		}
	}
	sp.SendProxyV2 = true
	return ""
}
