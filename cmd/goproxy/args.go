package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"goproxy/internal/cnum"
)

// action is what the command line asks for once it has been read.
type action int

const (
	actRun       action = iota // load the configuration and serve it
	actCheck                   // -c: check the configuration and exit
	actCheckCond               // -cc: evaluate a condition and exit
	actVersion                 // -v
	actBuildOpts               // -vv
	actUsage                   // bad command line: usage on stderr, exit 1
)

// options holds everything read from the command line. Zero values mean
// "not given".
type options struct {
	files     []string // -f and the files after --, in order
	checkCond string   // -cc argument

	quiet, verbose  bool // -q, -V
	debug           bool // -d
	foreground      bool // -db
	daemon          bool // -D
	diag            bool // -dD
	zeroWarning     bool // -dW
	resolveDontFail bool // -dr

	pidFile string // -p
	oldPids []int  // -sf / -st
	// xferSocket is -x: the old process's stats socket to take the
	// listening sockets from.
	xferSocket string
	oldSignal  syscall.Signal // SIGUSR1 for -sf, SIGTERM for -st
	maxConn    int            // -n (0 = not given)
	maxPConn   int            // -N (0 = not given)
	localPeer  string         // -L
	chdir      string         // -C
	unbuilt    []string       // flags whose feature goproxy does not have

	masterWorker bool     // -W, -Ws
	systemd      bool     // -Ws: sd_notify the service manager
	masterCLI    []string // -S <bind>[,<opts>]: master CLI sockets

	// seams are not read from the command line: run sets them.
	seams
}

// argError is a command-line error reported as an [ALERT] line, optionally
// followed by the usage text.
type argError struct {
	msg       string
	withUsage bool
}

func (e *argError) Error() string { return e.msg }

// parseArgs walks argv (without the program name) the way HAProxy 2.6's
// init() does: an option is recognised by its first one or two letters
// (so "-version" is -v and "-dbx" is -db), options with a value take the
// next argument, "-sf"/"-st" take every following argument up to the next
// one starting with '-', and "--" makes every remaining argument a
// configuration file. A bare argument is a usage error, as in HAProxy.
//
// It returns the action to perform; for actUsage the error, if any, is
// printed as an alert before the usage text.
func parseArgs(argv []string) (action, *options, error) {
	o := &options{oldSignal: syscall.SIGUSR1}
	act := actRun
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		if !strings.HasPrefix(arg, "-") {
			return actUsage, o, nil
		}
		flag := arg[1:]
		f0, f1 := byteAt(flag, 0), byteAt(flag, 1)
		switch {
		case f0 == 'v':
			// HAProxy prints the version as soon as it meets -v.
			if f1 == 'v' {
				return actBuildOpts, o, nil
			}
			return actVersion, o, nil
		case f0 == 'd' && (f1 == 'e' || f1 == 'p' || f1 == 'G' || f1 == 'V' || f1 == 'M' || f1 == 'k' || f1 == 'S'):
			// Poller, splice, resolver, SSL and memory-debug switches: goproxy
			// uses Go's poller, resolver and copy path and has no SSL, so
			// these change nothing (the usage text says so).
		case f0 == 'd' && f1 == 'R':
			o.unbuilt = append(o.unbuilt, "-dR (disable SO_REUSEPORT)")
		case f0 == 'd' && (f1 == 'L' || f1 == 'K'):
			o.unbuilt = append(o.unbuilt, "-d"+string(f1)+" (dump loaded objects or keywords)")
		case f0 == 'V':
			o.verbose = true
		case f0 == 'd' && f1 == 'b':
			o.foreground = true
		case f0 == 'd' && f1 == 'D':
			o.diag = true
		case f0 == 'd' && f1 == 'W':
			o.zeroWarning = true
		case f0 == 'd' && f1 == 'r':
			o.resolveDontFail = true
		case f0 == 'd':
			o.debug = true
		case f0 == 'c' && f1 == 'c':
			if i+1 >= len(argv) {
				return actUsage, o, nil
			}
			i++
			o.checkCond = argv[i]
			act = actCheckCond
		case f0 == 'c':
			if act != actCheckCond {
				act = actCheck
			}
		case f0 == 'D':
			o.daemon = true
		case f0 == 'W' && f1 == 's':
			o.masterWorker, o.systemd = true, true
		case f0 == 'W':
			o.masterWorker = true
		case f0 == 'q':
			o.quiet = true
		case f0 == 'x':
			if i+1 >= len(argv) {
				return actUsage, o, &argError{msg: "Unix socket path expected with the -x flag", withUsage: true}
			}
			i++
			o.xferSocket = argv[i]
		case f0 == 'S':
			if i+1 >= len(argv) {
				return actUsage, o, nil
			}
			i++
			o.masterCLI = append(o.masterCLI, argv[i])
		case f0 == 's' && (f1 == 'f' || f1 == 't'):
			if f1 == 't' {
				o.oldSignal = syscall.SIGTERM
			} else {
				o.oldSignal = syscall.SIGUSR1
			}
			for i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") {
				pid, err := parsePid(argv[i+1])
				if err != nil {
					return actUsage, o, &argError{msg: fmt.Sprintf("-%.2s option: %v", flag, err)}
				}
				if pid <= 0 {
					return actUsage, o, nil
				}
				o.oldPids = append(o.oldPids, pid)
				i++
			}
		case flag == "-":
			o.files = append(o.files, argv[i+1:]...)
			i = len(argv)
		default:
			// Options taking one value.
			if i+1 >= len(argv) {
				return actUsage, o, nil
			}
			i++
			val := argv[i]
			switch f0 {
			case 'C':
				o.chdir = val
			case 'n':
				o.maxConn = cnum.Atol(val)
			case 'm':
				o.unbuilt = append(o.unbuilt, "-m (memory limit)")
			case 'N':
				o.maxPConn = cnum.Atol(val)
			case 'L':
				o.localPeer = val
			case 'f':
				o.files = append(o.files, val)
			case 'p':
				o.pidFile = val
			default:
				return actUsage, o, nil
			}
		}
	}
	if len(o.files) == 0 && act != actCheckCond {
		return actUsage, o, nil
	}
	return act, o, nil
}

// parsePid reads one pid of a -sf/-st list as strtol would, rejecting
// trailing garbage as HAProxy does.
func parsePid(s string) (int, error) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(t) && (t[end] == '+' || t[end] == '-') {
		end++
	}
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	rest := strings.TrimLeft(t[end:], " \t\n\v\f\r")
	if rest != "" {
		return 0, fmt.Errorf("some bytes unconsumed in PID list {%s}", t[end:])
	}
	n, err := strconv.ParseInt(t[:end], 10, 64)
	if err != nil {
		if end == 0 || (end == 1 && (t[0] == '+' || t[0] == '-')) {
			return 0, nil // strtol returns 0 for no digits
		}
		return 0, fmt.Errorf("failed to parse {%s}: Numerical result out of range", s)
	}
	if n > 1<<31-1 || n < -1<<31 {
		return 0, fmt.Errorf("failed to parse {%s}: Numerical result out of range", s)
	}
	return int(n), nil
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// usageText is HAProxy's usage message with goproxy's name; flags goproxy
// does not implement are still listed because they are recognised (and
// refused with a clear message).
const usageText = `Usage : %[1]s [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dM[<byte>,help,...] debug memory (accepted, no effect)
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -m limits the usable amount of memory (in MB) (not supported)
        -N sets the default, per-proxy maximum # of connections (0)
        -L set local peer name (default to hostname)
        -p writes pids of all children to this file
        -de disables epoll() usage even when available (no effect)
        -dp disables poll() usage even when available (no effect)
        -dS disables splice usage (no effect)
        -dG disables getaddrinfo() usage (no effect)
        -dR disables SO_REUSEPORT usage (not supported)
        -dr ignores server address resolution failures
        -dV disables SSL verify on servers side (no effect)
        -dW fails if any warning is emitted
        -dD diagnostic mode : warn about suspicious configuration statements
        -sf/-st [pid ]* finishes/terminates old pids.
        -x <unix_socket> get listening sockets from a unix socket
        -S <bind>[,<bind options>...] new master CLI

`
