package stats

import (
	"strings"
)

// statsSchema is HAProxy 2.6's answer to "show schema json".
const statsSchema = "{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"oneOf\":[{\"title\":\"Info\",\"type\":\"array\",\"items\":{\"title\":\"InfoItem\",\"type\":\"object\",\"properties\":{\"field\":{\"$ref\":\"#/definitions/field\"},\"processNum\":{\"$ref\":\"#/definitions/processNum\"},\"tags\":{\"$ref\":\"#/definitions/tags\"},\"value\":{\"$ref\":\"#/definitions/typedValue\"}},\"required\":[\"field\",\"processNum\",\"tags\",\"value\"]}},{\"title\":\"Stat\",\"type\":\"array\",\"items\":{\"title\":\"InfoItem\",\"type\":\"object\",\"properties\":{\"objType\":{\"enum\":[\"Frontend\",\"Backend\",\"Listener\",\"Server\",\"Unknown\"]},\"proxyId\":{\"type\":\"integer\",\"minimum\":0},\"id\":{\"type\":\"integer\",\"minimum\":0},\"field\":{\"$ref\":\"#/definitions/field\"},\"processNum\":{\"$ref\":\"#/definitions/processNum\"},\"tags\":{\"$ref\":\"#/definitions/tags\"},\"typedValue\":{\"$ref\":\"#/definitions/typedValue\"}},\"required\":[\"objType\",\"proxyId\",\"id\",\"field\",\"processNum\",\"tags\",\"value\"]}},{\"title\":\"Error\",\"type\":\"object\",\"properties\":{\"errorStr\":{\"type\":\"string\"}},\"required\":[\"errorStr\"]}],\"definitions\":{\"field\":{\"type\":\"object\",\"pos\":{\"type\":\"integer\",\"minimum\":0},\"name\":{\"type\":\"string\"},\"required\":[\"pos\",\"name\"]},\"processNum\":{\"type\":\"integer\",\"minimum\":1},\"tags\":{\"type\":\"object\",\"origin\":{\"type\":\"string\",\"enum\":[\"Metric\",\"Status\",\"Key\",\"Config\",\"Product\",\"Unknown\"]},\"nature\":{\"type\":\"string\",\"enum\":[\"Gauge\",\"Limit\",\"Min\",\"Max\",\"Rate\",\"Counter\",\"Duration\",\"Age\",\"Time\",\"Name\",\"Output\",\"Avg\", \"Unknown\"]},\"scope\":{\"type\":\"string\",\"enum\":[\"Cluster\",\"Process\",\"Service\",\"System\",\"Unknown\"]},\"required\":[\"origin\",\"nature\",\"scope\"]},\"typedValue\":{\"type\":\"object\",\"oneOf\":[{\"$ref\":\"#/definitions/typedValue/definitions/s32Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/s64Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/u32Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/u64Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/strValue\"}],\"definitions\":{\"s32Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"s32\"]},\"value\":{\"type\":\"integer\",\"minimum\":-2147483648,\"maximum\":2147483647}},\"required\":[\"type\",\"value\"]},\"s64Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"s64\"]},\"value\":{\"type\":\"integer\",\"minimum\":-9007199254740991,\"maximum\":9007199254740991}},\"required\":[\"type\",\"value\"]},\"u32Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"u32\"]},\"value\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295}},\"required\":[\"type\",\"value\"]},\"u64Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"u64\"]},\"value\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9007199254740991}},\"required\":[\"type\",\"value\"]},\"strValue\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"str\"]},\"value\":{\"type\":\"string\"}},\"required\":[\"type\",\"value\"]},\"unknownValue\":{\"properties\":{\"type\":{\"type\":\"integer\",\"minimum\":0},\"value\":{\"type\":\"string\",\"enum\":[\"unknown\"]}},\"required\":[\"type\",\"value\"]}}}}}\n"

func cmdShowSchema(s *session, args []string) string {
	if argAt(args, 2) != "json" {
		// HAProxy registers "show schema json" as one keyword.
		return usageMessage(args, false)
	}
	return statsSchema
}

func cmdShowCLISockets(s *session, args []string) string {
	var b strings.Builder
	b.WriteString("# socket lvl processes\n")
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	for _, l := range s.srv.listeners {
		b.WriteString(l.name)
		b.WriteByte(' ')
		b.WriteString(l.level.String())
		b.WriteString(" all\n")
	}
	return b.String()
}

// cmdEmptyList answers the listing commands of features goproxy does not
// have (maps, ACLs, stick tables, peers, caches, certificates) with
// HAProxy's answer for an empty list.
func cmdEmptyList(header string) handler {
	return func(s *session, args []string) string {
		if len(args) > 2 {
			return notSupported
		}
		return header
	}
}

func cmdGetVar(s *session, args []string) string {
	if argAt(args, 2) == "" {
		return "Missing process-wide variable identifier.\n"
	}
	return "Variable not found.\n"
}
