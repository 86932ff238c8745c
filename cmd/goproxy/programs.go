package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"goproxy/parser"
)

// Programs (the program sections), as HAProxy 2.6's master runs them: the
// master starts each command beside its worker, shows it in show proc,
// and treats it as a worker at a reload (SIGUSR1 to the old instance, a
// new one unless "no option start-on-reload") and at a stop (SIGTERM).

// mprogram is a program's process as the master knows it. Guarded by the
// master's mu.
type mprogram struct {
	name    string
	pid     int
	reloads int
	start   time.Time
	leaving bool
	// signalled: the old instance was sent SIGUSR1.
	signalled bool
}

// checkPrograms refuses program sections outside master-worker mode, as
// HAProxy does once the files are read.
func checkPrograms(o *options, cfg *parser.Config, c *console) bool {
	if cfg == nil || len(cfg.Programs) == 0 || masterWorker(o, cfg) {
		return true
	}
	c.alert("config : Can't use a 'program' section without master worker mode.")
	c.alert("config : Fatal errors found in configuration.")
	return false
}

// startPrograms starts the configuration's programs; at a reload, only
// those with option start-on-reload.
func (m *master) startPrograms(cfg *parser.Config, reload bool) {
	for _, pg := range cfg.Programs {
		if reload && !pg.StartOnReload {
			continue
		}
		if err := m.startProgram(pg); err != nil {
			m.c.alert("[%s] %v", pg.Name, err)
		}
	}
}

func (m *master) startProgram(pg *parser.Program) error {
	path, err := exec.LookPath(pg.Command[0])
	if err != nil {
		return fmt.Errorf("cannot execute the program '%s': %w", pg.Command[0], err)
	}
	cmd := exec.Command(path, pg.Command[1:]...)
	cmd.Args[0] = pg.Command[0]
	cmd.Env = workerEnviron(m.parsedMWorker)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if pg.User != "" || pg.Group != "" {
		cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: true}
		if pg.Group != "" {
			cred.Gid = uint32(pg.GID)
		}
		if pg.User != "" {
			cred.Uid = uint32(pg.UID)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start the program '%s': %w", pg.Name, err)
	}
	p := &mprogram{name: pg.Name, pid: cmd.Process.Pid, start: time.Now()}
	m.c.notice("New program '%s' (%d) forked", p.name, p.pid)
	m.mu.Lock()
	m.programs = append(m.programs, p)
	m.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		m.events <- workerExit{pid: p.pid, status: exitStatus(cmd.ProcessState)}
	}()
	return nil
}

// leavePrograms makes the programs of the previous master old ones.
func (m *master) leavePrograms() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.programs {
		p.leaving = true
	}
}

// stopOldPrograms sends SIGUSR1 to the old programs once the new worker
// serves, as HAProxy's new worker does through -sf.
func (m *master) stopOldPrograms() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.programs {
		if !p.leaving || p.signalled {
			continue
		}
		p.signalled = true
		if err := syscall.Kill(p.pid, syscall.SIGUSR1); err != nil && !errors.Is(err, syscall.ESRCH) {
			m.c.warning("Failed to send signal %d to program %d: %v.", int(syscall.SIGUSR1), p.pid, err)
		}
	}
}

// reapProgram handles a program's exit as HAProxy's mworker_catch_sigchld;
// it reports whether pid was a program.
func (m *master) reapProgram(ev workerExit) bool {
	m.mu.Lock()
	var p *mprogram
	rest := m.programs[:0]
	for _, x := range m.programs {
		if x.pid == ev.pid {
			p = x
			continue
		}
		rest = append(rest, x)
	}
	m.programs = rest
	m.mu.Unlock()
	if p == nil {
		return false
	}
	st := ev.status
	what := "Exit"
	if st >= 128 {
		what = signalText(st - 128)
	}
	if p.leaving {
		m.c.warning("Former program '%s' (%d) exited with code %d (%s)", p.name, p.pid, st, what)
		return true
	}
	m.c.alert("Current program '%s' (%d) exited with code %d (%s)", p.name, p.pid, st, what)
	m.currentExited(st)
	return true
}

// programState serialises the programs for the next master: one
// "p=<pid>,<reloads>,<start ns>,<state>,<name base64>" entry each, state
// 0 for a current program, 1 for an old one not yet signalled, 2 for an
// old one signalled.
func (m *master) programState() []string {
	var out []string
	for _, p := range m.programs {
		state := 0
		switch {
		case p.signalled:
			state = 2
		case p.leaving:
			state = 1
		}
		out = append(out, fmt.Sprintf("p=%d,%d,%d,%d,%s", p.pid, p.reloads+1, p.start.UnixNano(), state,
			base64.RawURLEncoding.EncodeToString([]byte(p.name))))
	}
	return out
}

// restoreProgram reads one entry of programState and watches the process,
// still a child of this (executed again) master.
func (m *master) restoreProgram(part string, f []string) error {
	if len(f) != 5 {
		return fmt.Errorf("bad program entry %q", part)
	}
	name, err := base64.RawURLEncoding.DecodeString(f[4])
	if err != nil {
		return fmt.Errorf("bad program entry %q", part)
	}
	p := &mprogram{name: string(name), leaving: f[3] != "0", signalled: f[3] == "2"}
	p.pid, _ = strconv.Atoi(f[0])
	p.reloads, _ = strconv.Atoi(f[1])
	ns, _ := strconv.ParseInt(f[2], 10, 64)
	p.start = time.Unix(0, ns)
	proc, err := os.FindProcess(p.pid)
	if err != nil {
		return err
	}
	m.programs = append(m.programs, p)
	go func() {
		ps, err := proc.Wait()
		st := exitError
		if err == nil {
			st = exitStatus(ps)
		}
		m.events <- workerExit{pid: p.pid, status: st}
	}()
	return nil
}

// showPrograms writes show proc's "# programs" part. m.mu is held.
func (m *master) showPrograms(b *strings.Builder, now time.Time) {
	b.WriteString("# programs\n")
	old := false
	for _, leaving := range []bool{false, true} {
		for _, p := range m.programs {
			if p.leaving != leaving {
				continue
			}
			if leaving && !old {
				b.WriteString("# old programs\n")
				old = true
			}
			fmt.Fprintf(b, "%-15d %-15s %-15d %-15s %-15s\n", p.pid, p.name, p.reloads, uptime(now.Sub(p.start)), "-")
		}
	}
}
