package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func TestLoggerLines(t *testing.T) {
	var buf bytes.Buffer
	c := newConsole(&buf, false)
	log := newLogger(c, false)
	log.Info("Proxy fe started.")
	log.WithFields(logrus.Fields{"server": "s1", "bytes_in": 3}).Warn("Server be/s1 is DOWN")
	log.Error("bind failed")
	log.Warn("again")
	log.Debug("hidden")
	got := mask(buf.String())
	want := "[NOTICE]   (PID) : Proxy fe started.\n" + notices +
		"[WARNING]  (PID) : Server be/s1 is DOWN bytes_in=3 server=s1\n" +
		"[ALERT]    (PID) : bind failed\n" +
		"[WARNING]  (PID) : again\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestLoggerQuietAndStarted(t *testing.T) {
	var buf bytes.Buffer
	c := newConsole(&buf, true)
	newLogger(c, true).Error("x")
	c.alert("y")
	if buf.Len() != 0 {
		t.Errorf("quiet mode printed %q", buf.String())
	}

	buf.Reset()
	c = newConsole(&buf, false)
	c.doneStarting()
	c.warning("late")
	if got := mask(buf.String()); got != "[WARNING]  (PID) : late\n" {
		t.Errorf("after start, got %q (no version notices expected)", got)
	}
}

func TestOutWriterHoldRelease(t *testing.T) {
	var a, b bytes.Buffer
	w := newOutWriter(&a)
	w.Write([]byte("1"))
	w.hold()
	w.Write([]byte("2"))
	w.release(&b, false)
	w.Write([]byte("3"))
	if a.String() != "1" || b.String() != "23" {
		t.Errorf("a=%q b=%q", a.String(), b.String())
	}
	w.hold()
	w.Write([]byte("4"))
	w.release(&b, true)
	if strings.Contains(b.String(), "4") {
		t.Errorf("dropped text was written: %q", b.String())
	}
}

func TestRelayStatus(t *testing.T) {
	var out bytes.Buffer
	status, ok := relayStatus(strings.NewReader("[ALERT] a\n[WARNING] b\n"+statusMarker+"3\nignored\n"), &out)
	if !ok || status != 3 || out.String() != "[ALERT] a\n[WARNING] b\n" {
		t.Errorf("status=%d ok=%v out=%q", status, ok, out.String())
	}
	out.Reset()
	if _, ok := relayStatus(strings.NewReader("partial"), &out); ok || out.String() != "partial" {
		t.Errorf("without marker: ok=%v out=%q", ok, out.String())
	}
}

// TestOutWriterQueue: once queued, writes to a stderr nobody reads return
// at once and the overflow is dropped; flush is bounded, and writes what it
// can when the reader comes back.
func TestOutWriterQueue(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	o := newOutWriter(pw)
	flush := o.queue()
	start := time.Now()
	line := strings.Repeat("w", 99) + "\n"
	const n = 2000 // 200 KB: more than the pipe and the queue hold
	for i := 0; i < n; i++ {
		_, _ = o.Write([]byte(line))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("%d queued writes took %v", n, d)
	}
	o.mu.Lock()
	dropped := o.dropped
	o.mu.Unlock()
	if dropped == 0 {
		t.Errorf("nothing dropped with nobody reading")
	}
	start = time.Now()
	flush(100 * time.Millisecond)
	if d := time.Since(start); d > time.Second {
		t.Errorf("flush took %v with nobody reading", d)
	}
	// Direct writes again after flush; the reader gets whole lines.
	_ = pr.SetReadDeadline(time.Now().Add(2 * time.Second))
	b := make([]byte, 4096)
	if _, err := io.ReadFull(pr, b); err != nil || !strings.HasPrefix(string(b), line+line) {
		t.Errorf("read %v: %.40q", err, b)
	}
}
