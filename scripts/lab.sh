#!/usr/bin/env bash
# The suite's main job in a sandbox: a three-router lab in network namespaces,
# zebrad running on r1 with conf/lab/zebrad.toml, and its routes shown by
# vtysh and by the kernel. Everything is removed on exit (also on Ctrl-C).
#   scripts/lab.sh           build, run, show, tear down
#   scripts/lab.sh --shell   ... and open a shell in r1 before tearing down
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "$(id -u)" -eq 0 ] || { echo "lab.sh: run as root (it creates network namespaces)" >&2; exit 1; }
cargo build --quiet -p zebrad -p vtysh
BIN=${CARGO_TARGET_DIR:-target}/debug
tag="lab$$"
RUN=$(mktemp -d /tmp/routing-lab.XXXXXX)
cleanup() {
    [ -f "$RUN/zebrad.pid" ] && kill "$(cat "$RUN/zebrad.pid")" 2>/dev/null || true
    for n in r1 r2 r3; do ip netns del "$tag-$n" 2>/dev/null || true; done
    rm -rf "$RUN"
}
trap cleanup EXIT INT TERM
for n in r1 r2 r3; do ip netns add "$tag-$n"; ip -n "$tag-$n" link set lo up; done
ip link add eth0 netns "$tag-r1" type veth peer name eth0 netns "$tag-r2"
ip link add eth1 netns "$tag-r1" type veth peer name eth0 netns "$tag-r3"
ip -n "$tag-r1" addr add 192.0.2.1/24 dev eth0
ip -n "$tag-r1" addr add 2001:db8:1::1/64 dev eth0 nodad
ip -n "$tag-r1" addr add 198.51.100.1/24 dev eth1
ip -n "$tag-r2" addr add 192.0.2.2/24 dev eth0
ip -n "$tag-r2" addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$tag-r3" addr add 198.51.100.2/24 dev eth0
for l in "r1 eth0" "r1 eth1" "r2 eth0" "r3 eth0"; do set -- $l; ip -n "$tag-$1" link set "$2" up; done
ip netns exec "$tag-r1" "$BIN/zebrad" -f conf/lab/zebrad.toml --run-dir "$RUN" 2>"$RUN/zebrad.log" &
for _ in $(seq 50); do [ -S "$RUN/zebrad.sock" ] && break; sleep 0.1; done
[ -S "$RUN/zebrad.sock" ] || { cat "$RUN/zebrad.log"; exit 1; }
sleep 0.3
vty() { echo "r1# $*"; "$BIN/vtysh" --run-dir "$RUN" -c "$*"; echo; }
vty show ip route
vty show ip route table 1000
vty show ipv6 route
vty show ip rule
vty show zebra
echo "r1\$ ip route show table all proto 196   (the kernel's view: proto 196 = zebrad's static)"
ip netns exec "$tag-r1" ip -4 route show table all proto 196
ip netns exec "$tag-r1" ip -6 route show proto 196
if [ "${1:-}" = "--shell" ]; then
    echo "Shell in r1 (vtysh: $BIN/vtysh --run-dir $RUN). Exit to tear the lab down."
    ip netns exec "$tag-r1" bash || true
fi
