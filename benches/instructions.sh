#!/usr/bin/env bash
# Instructions per GetSourceServer call against a bare tonic echo server's,
# under callgrind: a ratio that does not move with this VM's speed, which
# swings throughput by ±20% between runs minutes apart.
#
#   cargo build --release --bin cutoverd --bench load
#   benches/instructions.sh            # N=20000 calls after 2,000 of warm-up
#
# Needs valgrind, h2load (Debian nghttp2-client), grpcurl ($GRPCURL or on
# PATH) and python3. Both servers run under callgrind; counters are zeroed
# after the warm-up and dumped after the measured calls, so start-up and
# shutdown are not counted. Every thread is counted: the kernel's work is
# not (callgrind sees user space only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N="${N:-20000}"
GRPCURL="${GRPCURL:-grpcurl}"
CUTOVERD="${CUTOVERD:-target/release/cutoverd}"
LOAD="${LOAD:-$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -1)}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# instructions KIND: instructions per call of the server KIND (echo or get).
instructions() {
    local kind=$1 dir="$WORK/$1" pid addr frame
    mkdir -p "$dir/data"
    if [ "$kind" = echo ]; then
        valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" "$LOAD" serve-echo \
            >"$dir/out" 2>"$dir/err" &
    else
        CUTOVER_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" \
            "$CUTOVERD" --no-simulator --listen 127.0.0.1:0 --data-dir "$dir/data" \
            >"$dir/out" 2>"$dir/err" &
    fi
    pid=$!
    for _ in $(seq 600); do
        grep -qE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+' "$dir/out" && break
        sleep 0.1
    done
    addr="$(grep -oE '[0-9.]+:[0-9]+' "$dir/out" | head -1)"
    # Echo answers whatever it is sent; cutoverd gets a registered server.
    local id=s-0000000000000000
    if [ "$kind" = get ]; then
        id="$("$GRPCURL" -plaintext -d '{}' "$addr" cutover.v1.SourceServerService/RegisterSourceServer \
            | python3 -c 'import json, sys; print(json.load(sys.stdin)["sourceServerId"])')"
    fi
    frame="$dir/frame"
    python3 - "$id" "$frame" <<'PY'
import struct, sys
sid = sys.argv[1].encode()
message = b"\x0a" + bytes([len(sid)]) + sid
open(sys.argv[2], "wb").write(b"\x00" + struct.pack(">I", len(message)) + message)
PY
    calls() {
        h2load -n "$1" -c 16 -m 8 -t 1 -H 'content-type: application/grpc' -H 'te: trailers' \
            -d "$frame" "http://$addr/cutover.v1.SourceServerService/GetSourceServer" >/dev/null
    }
    calls 2000
    callgrind_control -z "$pid" >/dev/null 2>&1
    calls "$N"
    callgrind_control -d "$pid" >/dev/null 2>&1
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    python3 - "$dir" "$N" <<'PY'
import glob, sys
directory, calls = sys.argv[1], int(sys.argv[2])
# The dump after the measured calls is the one numbered ".1".
for path in glob.glob(directory + "/cg.*.1"):
    for line in open(path, errors="replace"):
        if line.startswith(("summary:", "totals:")):
            print(round(int(line.split()[1]) / calls))
            break
PY
}

echo_ir="$(instructions echo)"
get_ir="$(instructions get)"
python3 -c "print('echo %d instructions per call, GetSourceServer %d: %.3f of echo' % ($echo_ir, $get_ir, $echo_ir / $get_ir))"
