package main

import (
	"strconv"
	"syscall"
	"time"

	"goproxy/parser"
)

// dropPrivileges does what HAProxy does once its listeners, stats sockets,
// logs and pidfile are open: chroot (then chdir to the new root), drop the
// supplementary groups and take the group, then take the user. Go applies
// setgroups, setgid and setuid to every thread of the process. It returns
// HAProxy's alert when a step fails (the caller exits); a failed drop of
// supplementary groups is only warned about, as in HAProxy.
func dropPrivileges(g parser.Global, c *console) (alert string) {
	if g.Chroot != "" {
		// The local time zone is loaded on first use: load it while
		// /etc/localtime is still reachable, so logs keep local time.
		_, _ = time.Now().Zone()
		if syscall.Chroot(g.Chroot) != nil || syscall.Chdir("/") != nil {
			return "[haproxy.main()] Cannot chroot(" + g.Chroot + ")."
		}
	}
	if g.GID != 0 {
		if groups, err := syscall.Getgroups(); err == nil && len(groups) > 0 {
			if syscall.Setgroups(nil) != nil {
				c.warning("[haproxy.main()] Failed to drop supplementary groups. Using 'gid'/'group' without 'uid'/'user' is generally useless.")
			}
		}
		if syscall.Setgid(g.GID) != nil {
			return "[haproxy.main()] Cannot set gid " + strconv.Itoa(g.GID) + "."
		}
	}
	if g.UID != 0 && syscall.Getuid() != g.UID {
		if syscall.Setuid(g.UID) != nil {
			return "[haproxy.main()] Cannot set uid " + strconv.Itoa(g.UID) + "."
		}
	}
	return ""
}
