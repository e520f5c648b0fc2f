#!/usr/bin/env bash
# Run every test of the routing suite: unit tests of each crate and the
# topology tests in network namespaces (tests/). The README's one command.
#
# Works on a fresh Debian 12 machine as root with only package registries
# reachable: installs the external routers and tools the topology tests use
# when they are missing, sweeps namespaces left by killed test runs, builds
# every binary, runs `cargo test --workspace`, prints a summary line and exits
# non-zero on any failure. Bounded in time: BUILD_TIMEOUT and TEST_TIMEOUT
# (seconds) cap the two cargo steps. Then every fuzz target runs briefly
# (FUZZ_SECONDS each, default 20; 0 skips; FUZZ_TIMEOUT caps the whole
# step, default 1800 s): a crash fails the run; without cargo-fuzz (and no
# way to install it from crates.io) the step is skipped with a message.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
START=$(date +%s)
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1200}
TEST_TIMEOUT=${TEST_TIMEOUT:-1500}

say() { printf 'test.sh: %s\n' "$*"; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }

# --- root: network namespaces need it -------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        say "not root: re-running under sudo"
        exec sudo -E env "PATH=$PATH" "$0" "$@"
    fi
    die "must run as root (topology tests create network namespaces): sudo $0"
fi

# --- tools -----------------------------------------------------------------
export PATH="$PATH:/usr/sbin:/sbin:${HOME:-/root}/.cargo/bin"
command -v cargo >/dev/null 2>&1 ||
    die "cargo not found: install a Rust toolchain (>= 1.85) first"

# binary (absolute path or command name) -> Debian package
need=()
check() { # check BINARY PACKAGE
    if [[ $1 == /* ]]; then [ -x "$1" ] && return 0; else command -v "$1" >/dev/null 2>&1 && return 0; fi
    need+=("$2")
}
check ip iproute2
check ping iputils-ping
check bird bird2
check /usr/lib/frr/bgpd frr
check gobgpd gobgpd
check cc gcc
check python3 python3
check birdc bird2
check gobgp gobgpd
check /usr/bin/vtysh frr
if [ ${#need[@]} -gt 0 ]; then
    say "installing missing packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || die "apt-get update failed"
    # All of the suite's packages, so the set on every machine is the same.
    apt-get install -y -q --no-install-recommends \
        bird2 frr gobgpd iputils-ping iproute2 gcc libc6-dev python3 </dev/null ||
        die "apt-get install failed"
fi

# --- namespaces left by killed test runs -------------------------------------
# Names are rt<pid>-<lab>-<node>; remove those whose test process is gone.
sweep() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        [[ $ns =~ ^rt([0-9]+)-[0-9]+-.+ ]] || continue
        pid=${BASH_REMATCH[1]}
        [ -d "/proc/$pid" ] && continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null && say "removed stale namespace $ns" || true
    done
}
sweep

# --- build, then test --------------------------------------------------------
LOG=$(mktemp -t routing-test.XXXXXX.log)
trap 'rm -f "$LOG"' EXIT

say "building: cargo build --workspace --bins"
if ! timeout --kill-after=30 "$BUILD_TIMEOUT" cargo build --workspace --bins; then
    say "FAILED: the build did not succeed (or took over ${BUILD_TIMEOUT}s)"
    echo "Summary: 0 passed, 1 failed"
    exit 1
fi

say "testing: cargo test --workspace"
set +e
timeout --kill-after=30 "$TEST_TIMEOUT" \
    cargo test --workspace --no-fail-fast 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
# A test process killed by the timeout cannot clean up after itself.
sweep

passed=0 failed=0 ignored=0
while read -r p f i; do
    passed=$((passed + p)) failed=$((failed + f)) ignored=$((ignored + i))
done < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' "$LOG")

# --- fuzz targets, briefly -----------------------------------------------------
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-1800}
fuzz_rc=0
if [ "$FUZZ_SECONDS" -eq 0 ]; then
    say "fuzzing: skipped (FUZZ_SECONDS=0)"
elif ! cargo fuzz --version >/dev/null 2>&1 &&
    ! timeout --kill-after=30 900 cargo install --locked cargo-fuzz >/dev/null 2>&1; then
    say "fuzzing: SKIPPED: cargo-fuzz is not installed and could not be installed from crates.io"
else
    say "fuzzing: scripts/fuzz.sh $FUZZ_SECONDS (every target, ${FUZZ_SECONDS}s each)"
    set +e
    CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target} \
        timeout --kill-after=30 "$FUZZ_TIMEOUT" scripts/fuzz.sh "$FUZZ_SECONDS"
    fuzz_rc=$?
    set -e
    if [ "$fuzz_rc" -ne 0 ]; then
        say "FAILED: fuzzing found a crash or did not build (exit $fuzz_rc; see above)"
        failed=$((failed + 1))
    fi
fi

elapsed=$(($(date +%s) - START))
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    say "FAILED: cargo test ran out of time (${TEST_TIMEOUT}s)"
elif [ "$rc" -ne 0 ]; then
    say "FAILED: cargo test exited with $rc"
    grep -E '^(test .* FAILED|error(\[|:))' "$LOG" | sort -u | head -50 || true
elif [ "$passed" -eq 0 ]; then
    say "FAILED: no test ran"
    rc=1
elif [ "$fuzz_rc" -eq 0 ]; then
    say "all tests passed in ${elapsed}s"
fi
[ "$fuzz_rc" -ne 0 ] && rc=1
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "Summary: $passed passed, $failed failed, $ignored skipped"
exit "$rc"
