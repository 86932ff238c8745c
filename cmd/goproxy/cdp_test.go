package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// cdp drives a headless Chromium through the DevTools protocol over
// --remote-debugging-pipe: the browser reads commands on its fd 3 and
// writes answers and events on its fd 4, each a JSON message ended by a
// NUL byte. It lets a test act in the page as a user would (tick a box,
// choose an option, press a button) with nothing but the standard library.
type cdp struct {
	t    *testing.T
	cmd  *exec.Cmd
	w    *os.File // our end of the browser's fd 3
	r    *os.File // our end of the browser's fd 4
	rd   *bufio.Reader
	next int
}

// cdpTimeout bounds each exchange with the browser.
const cdpTimeout = 20 * time.Second

// startCDP starts headless Chromium with a DevTools pipe; t.Cleanup closes
// the browser and kills its process group by its PID.
func startCDP(t *testing.T, bin string) *cdp {
	t.Helper()
	toBrowser, cmdIn, err := os.Pipe() // the browser reads toBrowser (fd 3)
	if err != nil {
		t.Fatal(err)
	}
	cmdOut, fromBrowser, err := os.Pipe() // the browser writes fromBrowser (fd 4)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--remote-debugging-pipe", "about:blank"}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	c := &cdp{t: t, cmd: cmd, w: cmdIn, r: cmdOut, rd: bufio.NewReader(cmdOut)}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = c.w.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.w.Write([]byte(`{"id":0,"method":"Browser.close"}` + "\x00"))
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		c.w.Close()
		c.r.Close()
	})
	return c
}

// cdpMessage is an answer or an event.
type cdpMessage struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// call sends method with params (to the page session when session is set)
// and returns its result, skipping the events that come before it.
func (c *cdp) call(session, method string, params any) json.RawMessage {
	c.t.Helper()
	c.next++
	msg := map[string]any{"id": c.next, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err != nil {
		c.t.Fatal(err)
	}
	deadline := time.Now().Add(cdpTimeout)
	_ = c.w.SetWriteDeadline(deadline)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		c.t.Fatalf("DevTools %s: %v", method, err)
	}
	_ = c.r.SetReadDeadline(deadline)
	for {
		line, err := c.rd.ReadBytes(0)
		if err != nil {
			c.t.Fatalf("DevTools %s: no answer: %v", method, err)
		}
		var m cdpMessage
		if err := json.Unmarshal(line[:len(line)-1], &m); err != nil {
			c.t.Fatalf("DevTools %s: %v in %q", method, err, line)
		}
		if m.ID != c.next || m.Method != "" {
			continue
		}
		if m.Error != nil {
			c.t.Fatalf("DevTools %s: %s", method, m.Error.Message)
		}
		return m.Result
	}
}

// openPage opens a new page and returns its session.
func (c *cdp) openPage() string {
	c.t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	c.decode(c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	c.decode(c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &attached)
	return attached.SessionID
}

func (c *cdp) decode(raw json.RawMessage, v any) {
	c.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		c.t.Fatalf("DevTools answer %s: %v", raw, err)
	}
}

// eval evaluates a JavaScript expression in the page and returns its value
// as JSON (promises awaited).
func (c *cdp) eval(session, expr string) json.RawMessage {
	c.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	c.decode(c.call(session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}), &r)
	if r.Exception != nil {
		c.t.Fatalf("page script %q: %s", expr, r.Exception.Text)
	}
	return r.Result.Value
}

// waitFor evaluates a boolean expression until it is true, up to d.
func (c *cdp) waitFor(session, expr string, d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		if string(c.eval(session, fmt.Sprintf("!!(%s)", expr))) == "true" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("page: %s still false after %v (at %s)", expr, d, c.eval(session, "location.href"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
