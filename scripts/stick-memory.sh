#!/bin/sh
# stick-memory.sh: memory per stick-table entry, goproxy against haproxy.
# Starts each proxy with one "type ip" table, fills it with N entries
# through "set table" on the stats socket (one prompt-mode connection),
# and prints the table header and the RSS growth per entry.
#
#   scripts/stick-memory.sh [entries] [goproxy binary] [haproxy binary]
set -eu
n=${1:-1000000}
goproxy=${2:-./goproxy}
haproxy=${3:-$(command -v haproxy || true)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

measure() {
	name=$1 bin=$2
	sock=$dir/$name.sock
	cat >"$dir/$name.cfg" <<CFG
global
    stats socket $sock level admin
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
backend t
    stick-table type ip size 2m expire 1h store conn_cnt,conn_cur,conn_rate(10s)
CFG
	"$bin" -f "$dir/$name.cfg" >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	before=$(rss $pid)
	awk -v n="$n" 'BEGIN { print "prompt"; for (i = 0; i < n; i++) printf "set table t key 10.%d.%d.%d data.conn_cnt 1\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256; print "quit" }' |
		socat -t 600 - "UNIX-CONNECT:$sock" >/dev/null
	after=$(rss $pid)
	echo "show table" | socat - "UNIX-CONNECT:$sock" | head -1
	echo "$name: RSS $before KiB -> $after KiB, $(((after - before) * 1024 / n)) bytes per entry"
	kill $pid
	wait $pid 2>/dev/null || true
}

measure goproxy "$goproxy"
if [ -n "$haproxy" ]; then
	measure haproxy "$haproxy"
else
	echo "SKIP: haproxy is not installed"
fi
