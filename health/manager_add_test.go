package health_test

import (
	"context"
	"testing"
	"time"

	"goproxy/health"
	"goproxy/parser"
)

func (f *fakeTarget) checks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ends)
}

// TestAddRemoveAtRunTime: a server added to a running manager is checked
// at once and periodically; once removed it is checked no more, and Stop
// still waits for every goroutine.
func TestAddRemoveAtRunTime(t *testing.T) {
	_, port := listen(t)
	px := l4Proxy()
	f := &fakeTarget{px: px, addr: parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: port},
		params: parser.ServerParams{Check: true, Inter: 20 * time.Millisecond}}
	m, err := health.New(nil, health.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	m.Start(ctx)
	defer m.Stop()
	if err := m.Add(f.server()); err != nil {
		t.Fatal(err)
	}
	if m.Checks() != 1 {
		t.Fatalf("%d checks, want 1", m.Checks())
	}
	deadline := time.Now().Add(3 * time.Second)
	for f.checks() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if f.checks() < 3 {
		t.Fatalf("%d checks of the added server in 3s", f.checks())
	}
	m.Remove(f)
	if m.Checks() != 0 {
		t.Fatalf("%d checks after Remove", m.Checks())
	}
	time.Sleep(60 * time.Millisecond) // a check in progress may still report
	n := f.checks()
	time.Sleep(200 * time.Millisecond)
	if got := f.checks(); got != n {
		t.Errorf("%d checks after removal settled, then %d: still checked", n, got)
	}
	// Added after Stop, a server is not checked.
	m.Stop()
	late := &fakeTarget{px: px, addr: f.addr, params: f.params}
	if err := m.Add(late.server()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if late.checks() != 0 {
		t.Errorf("a server added after Stop was checked %d times", late.checks())
	}
}
