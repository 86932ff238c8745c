#!/bin/sh
# demo.sh: goproxy in front of three CMPP gateway simulators, as in the seed
# configuration. Builds bin/goproxy and bin/cmppgw, starts the gateways on
# 127.0.0.1:9315-9317 (pids in ./run/), runs the proxy in the foreground on
# 127.0.0.1:9999 with testdata/demo.cfg, and stops the gateways it started when the
# proxy exits (Ctrl-C).
#
# Then, from another terminal:
#   echo test | nc 127.0.0.1 9999                      # which gateway answered
#   bin/cmppgw -client 127.0.0.1:9999 -hold 10s        # a CMPP session stays put
#   bin/cmppgw -client 127.0.0.1:9999 -laddr 127.0.0.2 # another client address
#   echo "show stat" | socat stdio unix-connect:run/haproxy.sock
#
# PROXY=haproxy scripts/demo.sh runs the same demo with HAProxy itself.
set -eu
cd "$(dirname "$0")/.."

PROXY=${PROXY:-bin/goproxy}
CONFIG=${CONFIG:-testdata/demo.cfg}
RUN=./run

mkdir -p bin "$RUN"
if [ "$PROXY" = bin/goproxy ]; then
	go build -o bin/goproxy ./cmd/goproxy
fi
go build -o bin/cmppgw ./cmd/cmppgw

pids=""
stop_gateways() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null || true
	done
	for n in 1 2 3; do
		rm -f "$RUN/cmppgw-server$n.pid"
	done
	pids=""
}
trap stop_gateways EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for n in 1 2 3; do
	bin/cmppgw -listen "127.0.0.1:931$((n + 4))" -name "server$n" &
	pid=$!
	pids="$pids $pid"
	echo "$pid" >"$RUN/cmppgw-server$n.pid"
done
sleep 0.3

echo "demo: $PROXY -db -f $CONFIG (Ctrl-C to stop)"
# Not exec: the EXIT trap must run to stop the gateways.
"$PROXY" -db -f "$CONFIG"
