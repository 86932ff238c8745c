package main

import (
	"net"
	"testing"
	"time"

	"goproxy/internal/cmpp"
)

func TestClientAgainstGateway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw := &cmpp.Gateway{Name: "server3", Secret: "pw"}
	go gw.Serve(ln)
	defer gw.Close()

	tests := []struct {
		name    string
		opts    clientOpts
		wantErr bool
	}{
		{"session", clientOpts{source: "901234", secret: "pw", submits: 2}, false},
		{"hold", clientOpts{source: "901234", secret: "pw", submits: 1, hold: 1100 * time.Millisecond}, false},
		{"wrong secret", clientOpts{source: "901234", secret: "x", submits: 1}, true},
		{"too many submits", clientOpts{source: "901234", secret: "pw", submits: 5000}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.addr = ln.Addr().String()
			err := runClient(t.Context(), tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("runClient: %v, want error %v", err, tt.wantErr)
			}
		})
	}
	if st := gw.Stats(); st.Submits != 2+2 || st.Connects != 3 {
		t.Fatalf("gateway stats %+v, want 4 submits and 3 connects", st)
	}
}
