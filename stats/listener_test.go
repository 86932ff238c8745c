package stats

import (
	"os"
	"testing"

	"goproxy/internal/srvstate"
)

// TestListenerBackupTrack renders the state of a second HAProxy 2.6.12
// capture (testdata/listener-backup-track.csv): option socket-stats with a
// named listener, a checked server with maxconn/maxqueue/slowstart that is
// down, a tracking server with pool-max-conn, and a backup server.
func TestListenerBackupTrack(t *testing.T) {
	want, err := os.ReadFile("testdata/listener-backup-track.csv")
	if err != nil {
		t.Fatal(err)
	}
	srvRow := func(name string, sid int, addr string) Row {
		return Row{Type: TypeServer, Proxy: "be", Name: name, IID: 3, SID: sid, Mode: "tcp",
			LastChg: 2, LastSess: -1, Addr: addr,
			Server: ServerState{Weight: 1, UWeight: 1, IWeight: 1, NeedConnEst: 1,
				Check: Check{Configured: true, Enabled: true, Rise: 2, Fall: 3, Duration: 0}}}
	}
	s1 := srvRow("s1", 1, "127.0.0.1:1")
	s1.SLim, s1.Server.MaxQueue, s1.ChkDown, s1.Downtime = 10, 5, 1, 2
	s1.Server.ChkFail = 1
	s1.Server.Check.Status, s1.Server.Check.Info = srvstate.CheckL4Con, "Connection refused"
	s2 := srvRow("s2", 2, "127.0.0.1:1")
	s2.SLim, s2.Server.Tracked, s2.Server.IdleLimit, s2.Server.NeedConnEst = 10, "be/s1", 5, 0
	s2.Server.Check = Check{}
	s3 := srvRow("s3", 3, "127.0.0.1:29871")
	s3.Server.Op, s3.Server.Backup = srvstate.OpRunning, true
	s3.Server.Check.Status, s3.Server.Check.Health = srvstate.CheckL4OK, 4
	f := &fakeSource{rows: []Row{
		{Type: TypeFrontend, Proxy: "fe", IID: 2, Mode: "tcp", SLim: 100},
		{Type: TypeListener, Proxy: "fe", Name: "l1", IID: 2, SID: 1, Mode: "tcp", ListenerStatus: "OPEN",
			Addr: "127.0.0.1:29871"},
		s1, s2, s3,
		{Type: TypeBackend, Proxy: "be", IID: 3, Mode: "tcp", SLim: 10, LastChg: 2, LastSess: -1, Algo: "roundrobin"},
	}}
	diffText(t, run(newTestServer(t, f), LevelAdmin, "show stat"), string(want))
}

func TestServerAddrFromHostPort(t *testing.T) {
	r := Row{Type: TypeServer, Proxy: "be", Name: "s", Server: ServerState{Host: "::1", Port: 80}}
	ctx := rowCtx{showLegends: true, be: &beAgg{}}
	if got := field(columnPos["addr"], &r, &ctx).String(); got != "[::1]:80" {
		t.Fatalf("addr %q", got)
	}
}
