#!/usr/bin/env bash
# Fuzz every decoder that takes outside input: BGP messages and UPDATE
# attributes, OSPF packets (null, simple and MD5 authentication) and LSAs,
# the three config loaders, the gRPC request conversions of zebrad (routes),
# bgpd and ospfd, and ApplyConfig's secrets handling in front of the loaders.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the cargo-fuzz crate in fuzz/ (libFuzzer; the stable toolchain with
# RUSTC_BOOTSTRAP=1 for the instrumentation flags, debug assertions and
# overflow checks on, no sanitizer: the workspace forbids `unsafe`), runs
# each target for SECONDS (default 60) from the committed seeds in
# fuzz/seeds/<target> plus the corpus it grows in fuzz/corpus/<target>,
# and prints executions, time and crashes per target and in total. A crash
# stops its target; the input is kept in fuzz/artifacts/<target>/ and
# replays, from fuzz/, with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -a <target> <artifact>
# Exits non-zero when any target crashed.
#
# Environment: FUZZ_SANITIZER (none | address, default none),
# CARGO_TARGET_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"
SECONDS_PER_TARGET=${1:-60}
shift || true
SANITIZER=${FUZZ_SANITIZER:-none}
export RUSTC_BOOTSTRAP=1

say() { printf 'fuzz.sh: %s\n' "$*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

ALL_TARGETS=$(cargo fuzz list)
TARGETS=${*:-$ALL_TARGETS}

say "building ${TARGETS//$'\n'/ } (sanitizer: $SANITIZER)"
# shellcheck disable=SC2086
for t in $TARGETS; do
    cargo fuzz build -s "$SANITIZER" -a "$t"
done

total_execs=0
total_secs=0
total_crashes=0
summary=()
for t in $TARGETS; do
    mkdir -p "corpus/$t" "artifacts/$t"
    seeds=()
    [ -d "seeds/$t" ] && seeds=("seeds/$t")
    log=$(mktemp)
    before=$(find "artifacts/$t" -type f | wc -l)
    start=$(date +%s)
    rc=0
    cargo fuzz run -s "$SANITIZER" -a "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65535 -print_final_stats=1 >"$log" 2>&1 || rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=${execs:-0}
    after=$(find "artifacts/$t" -type f | wc -l)
    crashes=$(( after - before ))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        # Died without writing an artifact (build or harness problem).
        crashes=1
        say "$t: exited $rc without an artifact; log follows"
        tail -40 "$log"
    fi
    if [ "$crashes" -gt 0 ]; then
        grep -m1 -A12 "panicked at\|ERROR: libFuzzer" "$log" || true
        find "artifacts/$t" -type f -newer "$log" -printf 'fuzz.sh:   artifact fuzz/%p\n'
    fi
    rm -f "$log"
    line=$(printf '%-14s %12s execs %6ss %3s crashes  corpus %s' \
        "$t" "$execs" "$secs" "$crashes" "$(find "corpus/$t" -type f | wc -l)")
    say "$line"
    summary+=("$line")
    total_execs=$(( total_execs + execs ))
    total_secs=$(( total_secs + secs ))
    total_crashes=$(( total_crashes + crashes ))
done

say "summary"
printf '  %s\n' "${summary[@]}"
printf '  %-14s %12s execs %6ss %3s crashes\n' total "$total_execs" "$total_secs" "$total_crashes"
[ "$total_crashes" -eq 0 ]
