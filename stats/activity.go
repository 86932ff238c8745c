package stats

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// show activity, show pools and show fd are HAProxy's developer dumps.
// goproxy prints them in HAProxy's shapes, so that tools which read a
// field or two keep working, with its own values: what it does not count
// is 0. The layouts are documented in README.md (Stats socket).

func init() {
	commandTable = append(commandTable,
		command{words: []string{"show", "activity"}, level: LevelUser, run: cmdShowActivity},
		command{words: []string{"show", "pools"}, level: LevelUser, run: cmdShowPools},
		command{words: []string{"show", "fd"}, level: LevelOperator, run: cmdShowFD},
	)
}

// activityKeys are HAProxy 2.6's show activity lines, in its order, after
// thread_id and date_now.
var activityKeys = []string{"ctxsw", "tasksw", "empty_rq", "long_rq", "loops", "wake_tasks",
	"wake_signal", "poll_io", "poll_exp", "poll_drop_fd", "poll_skip_fd", "conn_dead",
	"stream_calls", "pool_fail", "buf_wait", "cpust_ms_tot", "cpust_ms_1s", "cpust_ms_15s",
	"avg_loop_us", "accepted", "accq_pushed", "accq_full", "accq_ring", "fd_takeover"}

// cmdShowActivity prints "name: total [ t1 t2 ... ]" lines. goproxy does
// not count per thread: the first thread's column holds the total.
func cmdShowActivity(s *session, args []string) string {
	in := s.srv.src.Info()
	n := max(in.Nbthread, 1)
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "thread_id: 1 (1..%d)\n", n)
	fmt.Fprintf(&b, "date_now: %d.%06d\n", now.Unix(), now.Nanosecond()/1000)
	values := map[string]uint64{"accepted": in.CumConns, "accq_pushed": in.CumConns}
	for _, k := range activityKeys {
		v := values[k]
		fmt.Fprintf(&b, "%s: %d [ %d", k, v, v)
		for i := 1; i < n; i++ {
			b.WriteString(" 0")
		}
		b.WriteString(" ]\n")
	}
	return b.String()
}

// cmdShowPools prints HAProxy's header and total line. goproxy keeps no
// pools of fixed-size objects: the total is show info's PoolAlloc_bytes
// and PoolUsed_bytes.
func cmdShowPools(s *session, args []string) string {
	in := s.srv.src.Info()
	return "Dumping pools usage. Use SIGQUIT to flush them.\n" +
		fmt.Sprintf("Total: 0 pools, %d bytes allocated, %d used (~0 by thread caches).\n",
			in.PoolAllocBytes, in.PoolUsedBytes)
}

// cmdShowFD lists the process's descriptors, or one ("show fd <num>"), one
// line each in HAProxy's "%7d : " form followed by goproxy's fields:
// type=socket|pipe|file|other and target=, what /proc/self/fd links to.
func cmdShowFD(s *session, args []string) string {
	want := -1
	if a := argAt(args, 2); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			return "" // HAProxy prints nothing for a descriptor it does not know
		}
		want = n
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return ""
	}
	var fds []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && (want < 0 || n == want) {
			fds = append(fds, n)
		}
	}
	sort.Ints(fds)
	var b strings.Builder
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		if err != nil {
			continue // closed since the listing (the listing's own descriptor)
		}
		typ := "other"
		switch {
		case strings.HasPrefix(target, "socket:"):
			typ = "socket"
		case strings.HasPrefix(target, "pipe:"):
			typ = "pipe"
		case strings.HasPrefix(target, "/"):
			typ = "file"
		}
		fmt.Fprintf(&b, "%7d : type=%s target=%s\n", fd, typ, target)
	}
	return b.String()
}
