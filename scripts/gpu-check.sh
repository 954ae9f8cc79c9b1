#!/usr/bin/env bash
# gpu-check.sh OUTDIR — run parrot's GPU checks from the release bundle on a machine with an NVIDIA GPU.
#
# Unpacks dist/parrot-*-linux-x86_64.tar.xz (make bundle) into a temp dir, prints what the machine offers
# (nvidia-smi, CUDA libraries, java), then runs
#   bin/parrot selftest --device cuda --json OUTDIR/parity.json   (every op of the CUDA backend vs the CPU)
#   bin/parrot bench gpu --json OUTDIR/bench.json
#   python3 scripts/bench_attention.py --jar <bundle>/lib/parrot.jar --json OUTDIR/bench_attention.json
#       (the fused attention kernels: correctness vs a float64 PyTorch reference, then timings against PyTorch
#        SDPA/FlexAttention; only where python3 has a CUDA build of PyTorch)
#   compute-sanitizer --tool memcheck|racecheck python3 scripts/bench_attention.py --tiny
#       (only where compute-sanitizer exists: on PATH or in /usr/local/cuda/bin; and PyTorch as above)
# and writes OUTDIR/env.json with the machine facts and the exit codes (also selftest.log, bench.log,
# bench_attention.log, sanitizer-*.log, nvidia-smi.txt). The attention runs come after the parity run and never
# change the exit status: 2 when there is no usable GPU (fast, one line), 1 when the bundle is missing, else the
# selftest's exit code, or 1 if only the bench failed.
# After the selftest it also trains the quickstart models on the GPU (bin/parrot train --device cuda; their
# result.json files go to OUTDIR/quickstart/, the log to train.log).
# Time: the whole script keeps within GPU_CHECK_BUDGET seconds (default 540, so that it ends by itself inside a
# 10-minute device command, everything so far written); each step gets at most its own limit and what is left:
# GPU_CHECK_SELFTEST_TIMEOUT (default 240), GPU_CHECK_TRAIN_TIMEOUT (150), GPU_CHECK_BENCH_TIMEOUT (120),
# GPU_CHECK_SCAN_TIMEOUT (120), GPU_CHECK_ATTENTION_TIMEOUT (180), GPU_CHECK_SANITIZER_TIMEOUT (90 per run). A
# step with under 15 s left is skipped and says so. The order is the order of need: parity, training, benchmarks,
# sanitizer.
set -u
start_s=$(date +%s)
deadline_s=$((start_s + ${GPU_CHECK_BUDGET:-540}))

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 64
fi
if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "gpu-check: no GPU here: nvidia-smi not found" >&2
    exit 2
fi
if ! smi=$(nvidia-smi 2>&1); then
    echo "gpu-check: no usable GPU here: nvidia-smi failed: $(printf '%s' "$smi" | head -n 1)" >&2
    exit 2
fi

# The emulated CUDA device (make emu-device: libcuda.so.1 implemented on the CPU) is not a GPU: refuse it, so that
# nothing it produces is ever taken for GPU evidence. It is found by the device name it reports, in the libcuda.so.1
# the JVM would load (LD_LIBRARY_PATH first, then the linker cache); parity.json is checked again below.
emulated_name="emulated CUDA device (CPU)"
libcudas=""
IFS=: read -r -a ld_dirs <<< "${LD_LIBRARY_PATH:-}"
for d in ${ld_dirs[@]+"${ld_dirs[@]}"}; do
    [ -n "$d" ] && [ -f "$d/libcuda.so.1" ] && libcudas="$libcudas $d/libcuda.so.1"
done
libcudas="$libcudas $(ldconfig -p 2>/dev/null | sed -n 's/^[[:space:]]*libcuda\.so\.1 .*=> //p' | head -n 1)"
for f in $libcudas; do
    if [ -f "$f" ] && grep -aqF "$emulated_name" "$f"; then
        echo "gpu-check: no GPU here: $f is the $emulated_name, not a GPU (take build/emu-device off LD_LIBRARY_PATH)" >&2
        exit 2
    fi
done

root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(ls -1 "$root"/dist/parrot-*-linux-x86_64.tar.xz 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bundle" ]; then
    echo "gpu-check: no bundle $root/dist/parrot-*-linux-x86_64.tar.xz (run: make bundle)" >&2
    exit 1
fi
mkdir -p "$1" || exit 1
out=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/parrot-gpu-check.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$bundle" || { echo "gpu-check: cannot unpack $bundle" >&2; exit 1; }
home=$(ls -d "$work"/parrot-*/ 2>/dev/null | head -n 1)
home=${home%/}
parrot="$home/bin/parrot"
[ -x "$parrot" ] || { echo "gpu-check: $bundle has no bin/parrot" >&2; exit 1; }

json_str() {   # a JSON string literal
    local s
    s=$(printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037')
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/\\t}
    s=${s//$'\r'/}
    s=${s//$'\n'/\\n}
    printf '"%s"' "$s"
}
json_lines() {   # a JSON array of the non-empty lines of $1
    local first=1 line
    printf '['
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        [ $first -eq 1 ] || printf ', '
        first=0
        json_str "$line"
    done <<< "$1"
    printf ']'
}
json_rc() { [ -n "$1" ] && printf '%s' "$1" || printf 'null'; }

gpus=$(nvidia-smi --query-gpu=index,name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null) ||
    gpus=$(nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader 2>/dev/null) || gpus=""
cuda_version=$(printf '%s\n' "$smi" | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -n 1)
libs=$(ldconfig -p 2>/dev/null | grep -E 'libcuda|libcublas|libcudnn' | sed 's/^[[:space:]]*//' || true)
java_on_path=$(command -v java || true)
bundled_java=$("$home/runtime/bin/java" -version 2>&1 | head -n 1)

echo "== bundle: $(basename "$bundle")"
echo "== nvidia-smi"
printf '%s\n' "$smi" | tee "$out/nvidia-smi.txt"
echo "== CUDA libraries (ldconfig -p | grep -E 'libcuda|libcublas|libcudnn')"
printf '%s\n' "${libs:-(none found)}"
echo "== java on PATH: ${java_on_path:-none}; the bundle runs its own: $bundled_java"

selftest_rc=""
train_rc=""
bench_rc=""
attention_rc=""
memcheck_rc=""
racecheck_rc=""
scan_memcheck_rc=""
write_env() {
    {
        printf '{\n'
        printf '  "host": %s,\n' "$(json_str "$(hostname 2>/dev/null || echo unknown)")"
        printf '  "date_utc": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
        printf '  "kernel": %s,\n' "$(json_str "$(uname -srm)")"
        printf '  "bundle": %s,\n' "$(json_str "$(basename "$bundle")")"
        printf '  "gpus_csv": %s,\n' "$(json_lines "$gpus")"
        printf '  "gpu_csv_fields": "index, name, driver_version, memory.total, compute_cap",\n'
        printf '  "cuda_driver_version": %s,\n' "$(json_str "$cuda_version")"
        printf '  "cuda_libraries": %s,\n' "$(json_lines "$libs")"
        printf '  "java_on_path": %s,\n' "$(json_str "$java_on_path")"
        printf '  "bundled_java": %s,\n' "$(json_str "$bundled_java")"
        printf '  "cpu_cores": %s,\n' "$(nproc 2>/dev/null || echo null)"
        printf '  "selftest_exit": %s,\n' "$(json_rc "$selftest_rc")"
        printf '  "train_quickstart_exit": %s,\n' "$(json_rc "$train_rc")"
        printf '  "bench_exit": %s,\n' "$(json_rc "$bench_rc")"
        printf '  "bench_attention_exit": %s,\n' "$(json_rc "$attention_rc")"
        printf '  "sanitizer_memcheck_exit": %s,\n' "$(json_rc "$memcheck_rc")"
        printf '  "sanitizer_racecheck_exit": %s,\n' "$(json_rc "$racecheck_rc")"
        printf '  "sanitizer_scan_memcheck_exit": %s,\n' "$(json_rc "$scan_memcheck_rc")"
        printf '  "seconds_used": %s\n' "$(( $(date +%s) - start_s ))"
        printf '}\n'
    } > "$out/env.json"
}
write_env   # the facts first, in case a run below hangs

left_s() { echo $((deadline_s - $(date +%s))); }
run_limited() {   # seconds, command... — at most that long, and never past the script's budget (exit 124 then)
    local limit=$1 left
    shift
    left=$(( $(left_s) - 5 ))
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -lt 15 ]; then
        echo "gpu-check: out of time budget (GPU_CHECK_BUDGET), skipped: $*"
        return 124
    fi
    if command -v timeout >/dev/null 2>&1; then timeout --kill-after=5 "$limit" "$@"; else "$@"; fi
}

echo "== selftest: bin/parrot selftest --device cuda --json $out/parity.json"
run_limited "${GPU_CHECK_SELFTEST_TIMEOUT:-240}" "$parrot" selftest --device cuda --json "$out/parity.json" 2>&1 |
    tee "$out/selftest.log"
selftest_rc=${PIPESTATUS[0]}
write_env
if [ -f "$out/parity.json" ] && grep -q '"emulated" *: *true' "$out/parity.json"; then
    echo "gpu-check: the selftest ran on the $emulated_name, not a GPU: stopping; nothing here is a GPU result" >&2
    mv "$out/parity.json" "$out/parity-emulated-not-a-gpu.json"
    exit 2
fi
echo "== train: bin/parrot train --config experiments/quickstart.json --device cuda (results: $out/quickstart/)"
run_limited "${GPU_CHECK_TRAIN_TIMEOUT:-150}" "$parrot" train --config "$root/experiments/quickstart.json" \
    --device cuda --out "$work/runs/quickstart" 2>&1 | tee "$out/train.log"
train_rc=${PIPESTATUS[0]}
for f in "$work"/runs/quickstart/*/result.json; do
    [ -f "$f" ] || continue
    m=$(basename "$(dirname "$f")")
    mkdir -p "$out/quickstart/$m" && cp "$f" "$out/quickstart/$m/result.json"
done
write_env
echo "== bench: bin/parrot bench gpu --json $out/bench.json"
run_limited "${GPU_CHECK_BENCH_TIMEOUT:-120}" "$parrot" bench gpu --json "$out/bench.json" 2>&1 | tee "$out/bench.log"
bench_rc=${PIPESTATUS[0]}
# Selective-scan benchmark (scripts/bench_scan.py: parrot's scan kernels vs PyTorch and parrot's attention, JSON in
# OUTDIR/bench_scan.json). Guarded: without python3 + CUDA PyTorch it is skipped, and a failure or timeout
# (GPU_CHECK_SCAN_TIMEOUT) is logged but changes neither the other checks nor the exit code.
scan_rc=skipped
if [ "${GPU_CHECK_SCAN:-1}" != 0 ] && command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    echo "== bench_scan: python3 scripts/bench_scan.py --jar $home/lib/parrot.jar --json $out/bench_scan.json"
    run_limited "${GPU_CHECK_SCAN_TIMEOUT:-120}" python3 "$root/scripts/bench_scan.py" --jar "$home/lib/parrot.jar" \
        --json "$out/bench_scan.json" 2>&1 | tee "$out/bench_scan.log"
    scan_rc=${PIPESTATUS[0]}
else
    echo "== bench_scan: skipped (needs python3 with a CUDA build of PyTorch; GPU_CHECK_SCAN=0 turns it off)"
fi
echo "== bench_scan exit: $scan_rc (informational)"
write_env

# ---- fused attention: benchmark and compute-sanitizer (after the parity run; failures are reported, not fatal) --
bench_attention="$root/scripts/bench_attention.py"
if command -v python3 >/dev/null 2>&1 && [ -f "$bench_attention" ] &&
    python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    echo "== attention bench: python3 scripts/bench_attention.py --jar lib/parrot.jar --json $out/bench_attention.json"
    att_limit=${GPU_CHECK_ATTENTION_TIMEOUT:-180}
    run_limited "$att_limit" python3 "$bench_attention" --jar "$home/lib/parrot.jar" \
        --budget-s $(( att_limit * 2 / 3 )) --json "$out/bench_attention.json" 2>&1 | tee "$out/bench_attention.log"
    attention_rc=${PIPESTATUS[0]}
    write_env
    sanitizer=$(command -v compute-sanitizer 2>/dev/null || true)
    [ -z "$sanitizer" ] && [ -x /usr/local/cuda/bin/compute-sanitizer ] && sanitizer=/usr/local/cuda/bin/compute-sanitizer
    if [ -n "$sanitizer" ]; then
        filter=()   # instrument parrot's kernels only, where this compute-sanitizer can filter by kernel name
        if "$sanitizer" --help 2>/dev/null | grep -q -- '--kernel-name'; then
            filter=(--kernel-name kns=parrot_flash_attention)
        fi
        for tool in memcheck racecheck; do
            echo "== compute-sanitizer --tool $tool: bench_attention.py --tiny (log: $out/sanitizer-$tool.log)"
            run_limited "${GPU_CHECK_SANITIZER_TIMEOUT:-90}" "$sanitizer" --tool "$tool" ${filter[@]+"${filter[@]}"} \
                --error-exitcode 3 python3 "$bench_attention" --tiny --jar "$home/lib/parrot.jar" \
                --json "$out/sanitizer-$tool.json" > "$out/sanitizer-$tool.log" 2>&1
            rc=$?
            tail -n 5 "$out/sanitizer-$tool.log"
            if [ "$tool" = memcheck ]; then memcheck_rc=$rc; else racecheck_rc=$rc; fi
        done
        write_env
        # the selective scan's kernels on one small case (memcheck; the scan shares no memory between threads
        # beyond its block reductions, which racecheck would need far longer to cover)
        scan_filter=()
        [ ${#filter[@]} -gt 0 ] && scan_filter=(--kernel-name kns=parrot_scan)
        echo "== compute-sanitizer --tool memcheck: bench_scan.py, one small case (log: $out/sanitizer-scan-memcheck.log)"
        run_limited "${GPU_CHECK_SANITIZER_TIMEOUT:-90}" "$sanitizer" --tool memcheck ${scan_filter[@]+"${scan_filter[@]}"} \
            --error-exitcode 3 python3 "$root/scripts/bench_scan.py" --jar "$home/lib/parrot.jar" --lengths 100 \
            --batch 2 --d-inner 96 --heads 2 --warmup 0 --iters 1 --torch-iters 1 --no-compile \
            --json "$out/sanitizer-scan.json" > "$out/sanitizer-scan-memcheck.log" 2>&1
        scan_memcheck_rc=$?
        tail -n 5 "$out/sanitizer-scan-memcheck.log"
        write_env
    else
        echo "== compute-sanitizer: not found, skipped"
    fi
else
    echo "== attention bench: skipped (needs python3 with a CUDA build of PyTorch)"
fi

echo "== gpu-check: selftest exit $selftest_rc, train exit $train_rc, bench exit $bench_rc, attention bench exit ${attention_rc:-skipped}," \
    "sanitizer memcheck ${memcheck_rc:-skipped} racecheck ${racecheck_rc:-skipped} scan ${scan_memcheck_rc:-skipped};" \
    "$(( $(date +%s) - start_s )) s; results in $out"
if [ "$selftest_rc" -ne 0 ]; then exit "$selftest_rc"; fi
if [ "$bench_rc" -ne 0 ]; then exit 1; fi
exit 0
