package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Set at link time: go build -ldflags "-X main.version=1.2.3 -X main.buildDate=2026/11/25".
var (
	version   = "dev"
	buildDate = ""
)

// revision is the VCS revision the binary was built from ("-dirty" when
// the tree was modified): the link-time value (make build, -X
// main.revision=...), else go build's VCS stamp; empty when unknown.
var revision string

func init() {
	bi, _ := debug.ReadBuildInfo()
	v, rev := buildVersion(version, bi)
	version = v
	if revision == "" {
		revision = rev
	}
}

// buildVersion returns the version goproxy reports and its revision: the
// link-time version (make build, -X main.version=...) when set, else the
// module version go build stamped (v0.0.0-<date>-<rev>[+dirty]), else the
// revision, else "dev".
func buildVersion(linked string, bi *debug.BuildInfo) (string, string) {
	if bi == nil {
		return linked, ""
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	short := rev
	if len(short) > 12 {
		short = short[:12]
	}
	if rev != "" && dirty {
		rev += "-dirty"
		short += "-dirty"
	}
	switch {
	case linked != "dev" && linked != "":
		return linked, rev
	case bi.Main.Version != "" && bi.Main.Version != "(devel)":
		return bi.Main.Version, rev
	case rev != "":
		return "dev-" + short, rev
	}
	return linked, rev
}

// haproxyCompat is the HAProxy branch whose configuration language, command
// line and runtime interfaces goproxy follows.
const haproxyCompat = "2.6"

// feature is one entry of the "Feature list" line of -vv, in HAProxy's
// names, so that ".if feature(NAME)" means the same in both programs.
type feature struct {
	name string
	on   bool
}

// features lists what goproxy has (+) and what it lacks (-), in HAProxy's
// spelling and alphabetical order. Only capabilities goproxy really has are
// marked +.
var features = []feature{
	{"51DEGREES", false},
	{"ACCEPT4", true},   // Go's net package accepts with accept4(2)
	{"BACKTRACE", true}, // goroutine dumps on fatal errors
	{"CPU_AFFINITY", false},
	{"DEVICEATLAS", false},
	{"EPOLL", true},       // Go's network poller on Linux
	{"GETADDRINFO", true}, // server names resolved through the system resolver
	{"GOPROXY", true},     // this is goproxy: ".if feature(GOPROXY)" guards its extensions
	{"KQUEUE", false},
	{"LIBCRYPT", false},
	{"LINUX_SPLICE", false}, // the event loop copies through its own buffers, never splice(2)
	{"LINUX_TPROXY", false},
	{"LUA", false},
	{"NETFILTER", false},
	{"NS", false},
	{"OPENSSL", false},
	{"OT", false},
	{"PCRE", false},
	{"PCRE2", false},
	{"PCRE2_JIT", false},
	{"POLL", false},
	{"PROMEX", true}, // "http-request use-service prometheus-exporter"
	{"QUIC", false},
	{"SLZ", false},
	{"SYSTEMD", false},
	{"TFO", false},
	{"THREAD", true}, // goroutines on all CPUs
	{"TPROXY", false},
	{"WURFL", false},
	{"ZLIB", false},
}

// FeatureList returns the features as -vv prints them ("+EPOLL",
// "-OPENSSL", ...), the form parser.Options.Features takes for
// ".if feature(NAME)".
func FeatureList() []string {
	out := make([]string, len(features))
	for i, f := range features {
		sign := "-"
		if f.on {
			sign = "+"
		}
		out[i] = sign + f.name
	}
	return out
}

// featureLine renders "+A -B ..." as in HAProxy's -vv.
func featureLine() string {
	return strings.Join(FeatureList(), " ")
}

// releaseDate is the build date in HAProxy's yyyy/mm/dd form: the link-time
// value, else the VCS commit time, else empty.
func releaseDate() string {
	if buildDate != "" {
		return buildDate
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t.UTC().Format("2006/01/02")
				}
			}
		}
	}
	return ""
}

// runningOn describes the kernel like HAProxy's "Running on:" line.
func runningOn() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return runtime.GOOS + " " + runtime.GOARCH
	}
	return fmt.Sprintf("%s %s %s %s", unix.ByteSliceToString(u.Sysname[:]),
		unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:]),
		unix.ByteSliceToString(u.Machine[:]))
}

// printVersion writes the -v banner. The first line keeps HAProxy's shape
// ("<name> version <version> <date> - <url-or-note>") for scripts that
// parse it.
func printVersion(w io.Writer) {
	date := releaseDate()
	if date != "" {
		date = " " + date
	}
	fmt.Fprintf(w, "goproxy version %s%s - HAProxy %s compatible (TCP mode)\n", version, date, haproxyCompat)
	fmt.Fprintf(w, "Status: goproxy is not HAProxy; it reads HAProxy %s configurations and serves them in TCP mode.\n", haproxyCompat)
	fmt.Fprintf(w, "Running on: %s\n", runningOn())
}

// printBuildOptions writes the rest of -vv, in HAProxy's layout.
func printBuildOptions(w io.Writer) {
	fmt.Fprintf(w, "Build options :\n")
	fmt.Fprintf(w, "  TARGET  = %s-%s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "  CC      = %s\n", runtime.Compiler)
	fmt.Fprintf(w, "  GO      = %s\n", runtime.Version())
	fmt.Fprintf(w, "\nFeature list : %s\n", featureLine())
	fmt.Fprintf(w, "\nDefault settings :\n  maxconn = computed from the file descriptor limit\n\n")
	fmt.Fprintf(w, "Built with multi-threading support (GOMAXPROCS=%d).\n", runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "Built with the Prometheus exporter as a service\n")
	fmt.Fprintf(w, "\nAvailable polling systems :\n")
	fmt.Fprintf(w, "      epoll : pref=300,  test result OK\n")
	fmt.Fprintf(w, "Total: 1 (1 usable), will use epoll.\n")
	fmt.Fprintf(w, "\nAvailable multiplexer protocols :\n")
	fmt.Fprintf(w, "(protocols marked as <default> cannot be specified using 'proto' keyword)\n")
	fmt.Fprintf(w, "  <default> : mode=TCP   side=FE|BE  mux=PASS  flags=\n")
	fmt.Fprintf(w, "\nAvailable services : prometheus-exporter\n")
	fmt.Fprintf(w, "Available filters : none\n\n")
}
