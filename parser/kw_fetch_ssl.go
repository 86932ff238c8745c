package parser

// The TLS fetches of terminated connections (ssl_fc*, ssl_c_*), usable in
// ACLs, use_backend, tcp-request rules and log-format "%[...]".
var sslFetches = map[string]fetchDef{
	"ssl_fc":             {"bool", "bool", 0, 0},
	"ssl_fc_has_sni":     {"bool", "bool", 0, 0},
	"ssl_fc_is_resumed":  {"bool", "bool", 0, 0},
	"ssl_fc_sni":         {"str", "str", 0, 0},
	"ssl_fc_protocol":    {"str", "str", 0, 0},
	"ssl_fc_cipher":      {"str", "str", 0, 0},
	"ssl_fc_alpn":        {"str", "str", 0, 0},
	"ssl_c_used":         {"bool", "bool", 0, 0},
	"ssl_c_verify":       {"int", "int", 0, 0},
	"ssl_c_err":          {"int", "int", 0, 0},
	"ssl_fc_err":         {"int", "int", 0, 0},
	"ssl_fc_err_str":     {"str", "str", 0, 0},
	"ssl_c_ca_err":       {"int", "int", 0, 0},
	"ssl_c_ca_err_depth": {"int", "int", 0, 0},
	"ssl_c_s_dn":         {"str", "str", 0, 0},
	"ssl_c_i_dn":         {"str", "str", 0, 0},
	"ssl_c_serial":       {"bin", "bin", 0, 0},
}

func init() {
	for name, d := range sslFetches {
		fetches[name] = d
	}
}
