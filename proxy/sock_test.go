package proxy

import (
	"testing"

	"goproxy/parser"
)

func TestBindText(t *testing.T) {
	// HAProxy's renderings, checked against haproxy 2.6 bind errors.
	tests := []struct {
		addr parser.Addr
		want string
	}{
		{parser.Addr{Family: parser.FamilyTCP4, Port: 80}, "0.0.0.0:80"},
		{parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: 47080}, "127.0.0.1:47080"},
		{parser.Addr{Family: parser.FamilyTCP6, Port: 52257}, ":::52257"},
		{parser.Addr{Family: parser.FamilyTCP6, Host: "::", Port: 52257}, ":::52257"},
		{parser.Addr{Family: parser.FamilyTCP6, Host: "::1", Port: 42517}, "::1:42517"},
		{parser.Addr{Family: parser.FamilyFD, FD: 5}, "fd@5"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := bindText(tt.addr); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsedBindAddresses(t *testing.T) {
	for _, tc := range []struct{ bind, want string }{
		{"*:8080", "0.0.0.0:8080"}, {":::8081", ":::8081"}, {"127.0.0.1:8082", "127.0.0.1:8082"},
		{"ipv6@:8083", ":::8083"},
	} {
		t.Run(tc.bind, func(t *testing.T) {
			cfg := parseConfig(t, "defaults\n mode tcp\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n"+
				"listen li\n bind "+tc.bind+"\n server s 127.0.0.1:1\n")
			g, err := Build(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Frontend("li").Listeners[0].Addr; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
