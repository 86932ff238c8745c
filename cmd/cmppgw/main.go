// Command cmppgw runs CMPP gateway (ISMG) simulators for goproxy's demo and
// tests, or, with -client, a small CMPP client that shows which gateway
// answered.
//
// Gateways (one per -listen/-name pair, names default to server1, server2…):
//
//	cmppgw -listen 127.0.0.1:9315 -name server1 -listen 127.0.0.1:9316 -name server2
//
// A gateway answers CONNECT, SUBMIT, ACTIVE_TEST and TERMINATE, puts its name
// into CONNECT_RESP's AuthenticatorISMG and SUBMIT_RESP's Msg_Id, and answers a
// plain text line with "cmppgw NAME: LINE" (echo test | nc 127.0.0.1 9315).
//
// Client:
//
//	cmppgw -client 127.0.0.1:9999 [-laddr 127.0.0.2] [-submits 3] [-hold 0s]
//
// logs in, sends SUBMITs and an ACTIVE_TEST, then TERMINATE, printing which
// gateway answered each; -hold keeps the session open (one ACTIVE_TEST per
// second) to watch it stay on its gateway.
//
// It imports internal/cmpp and logrus.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/cmpp"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var listens, names listFlag
	flag.Var(&listens, "listen", "address to serve a gateway on (repeatable)")
	flag.Var(&names, "name", "name of the gateway of the -listen at the same position (repeatable)")
	secret := flag.String("secret", "", "shared secret: gateways check CONNECT authenticators with it, the client signs with it")
	activeTest := flag.Duration("active-test", cmpp.DefaultActiveTestInterval, "gateway: idle time before it sends its own ACTIVE_TEST")
	verbose := flag.Bool("v", false, "gateway: log connection errors")
	client := flag.String("client", "", "run as a client against this address instead of serving")
	laddr := flag.String("laddr", "", "client: local address to connect from, e.g. 127.0.0.2")
	source := flag.String("source", "901234", "client: SP id (Source_Addr)")
	submits := flag.Int("submits", 3, "client: SUBMITs to send (0-1000)")
	hold := flag.Duration("hold", 0, "client: keep the session open this long, one ACTIVE_TEST per second")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *client != "" {
		err = runClient(ctx, clientOpts{addr: *client, laddr: *laddr, source: *source,
			secret: *secret, submits: *submits, hold: *hold})
	} else {
		err = runGateways(ctx, listens, names, *secret, *activeTest, *verbose)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmppgw:", err)
		os.Exit(1)
	}
}

func runGateways(ctx context.Context, listens, names []string, secret string, activeTest time.Duration, verbose bool) error {
	if len(listens) == 0 {
		listens = []string{"127.0.0.1:9315"}
	}
	if len(names) > len(listens) {
		return fmt.Errorf("%d -name for %d -listen", len(names), len(listens))
	}
	log := logrus.New()
	if verbose {
		log.SetLevel(logrus.DebugLevel)
	}
	var gws []*cmpp.Gateway
	var lns []net.Listener
	for i, addr := range listens {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("listen: %w", err)
		}
		name := fmt.Sprintf("server%d", i+1)
		if i < len(names) {
			name = names[i]
		}
		gws = append(gws, &cmpp.Gateway{Name: name, Secret: secret, ActiveTestInterval: activeTest, Log: log})
		lns = append(lns, ln)
		fmt.Printf("cmppgw %s listening on %s\n", name, ln.Addr())
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(gws))
	for i, gw := range gws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := gw.Serve(lns[i]); !errors.Is(err, cmpp.ErrGatewayClosed) {
				errs <- fmt.Errorf("gateway %s: %w", gw.Name, err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	for _, gw := range gws {
		gw.Close()
	}
	wg.Wait()
	return err
}

type clientOpts struct {
	addr, laddr, source, secret string
	submits                     int
	hold                        time.Duration
}

func runClient(ctx context.Context, o clientOpts) error {
	if o.submits < 0 || o.submits > 1000 {
		return fmt.Errorf("-submits %d: want 0 to 1000", o.submits)
	}
	c, err := cmpp.Dial(ctx, o.addr, o.laddr)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Printf("session %s -> %s\n", c.Conn().LocalAddr(), c.Conn().RemoteAddr())
	cr, err := c.Connect(o.source, o.secret, cmpp.Version30)
	if err != nil {
		return err
	}
	fmt.Printf("  CONNECT      -> CONNECT_RESP status=%d version=0x%02x  gateway=%s\n", cr.Status, cr.Version, cr.Gateway)
	if cr.Status != cmpp.StatusOK {
		return fmt.Errorf("login refused with status %d", cr.Status)
	}
	for i := range o.submits {
		sr, err := c.Submit(cmpp.Submit{SrcID: o.source, DestID: "13800138000", Content: []byte("hello from cmppgw")})
		if err != nil {
			return err
		}
		fmt.Printf("  SUBMIT #%-3d  -> SUBMIT_RESP result=%d msg_id=%q  gateway=%s\n", i+1, sr.Result, sr.Gateway(), sr.Gateway())
	}
	if err := c.ActiveTest(); err != nil {
		return err
	}
	fmt.Printf("  ACTIVE_TEST  -> ACTIVE_TEST_RESP (13 bytes, same connection: %s)\n", cr.Gateway)
	if o.hold > 0 {
		if err := holdSession(ctx, c, cr.Gateway, o); err != nil {
			return err
		}
	}
	if err := c.Terminate(); err != nil {
		return err
	}
	fmt.Println("  TERMINATE    -> TERMINATE_RESP")
	return nil
}

// holdSession keeps the session alive for o.hold, one ACTIVE_TEST and one
// SUBMIT per second, and fails if a SUBMIT is answered by another gateway.
func holdSession(ctx context.Context, c *cmpp.Client, gateway string, o clientOpts) error {
	end := time.NewTimer(o.hold)
	defer end.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-end.C:
			return nil
		case <-tick.C:
		}
		if err := c.ActiveTest(); err != nil {
			return err
		}
		sr, err := c.Submit(cmpp.Submit{SrcID: o.source, DestID: "13800138000", Content: []byte("still here")})
		if err != nil {
			return err
		}
		if sr.Gateway() != gateway {
			return fmt.Errorf("second %d: SUBMIT answered by %s, session started on %s", n, sr.Gateway(), gateway)
		}
		fmt.Printf("  %4ds  ACTIVE_TEST + SUBMIT still answered by %s\n", n, sr.Gateway())
	}
}
