#!/usr/bin/env bash
# Whether two builds train to the same bits: trains the quickstart's transformer (Hard-ALiBi), Mamba and LSTM for
# 40 steps with each jar on the CPU and compares the checkpoints' weights and AdamW state byte for byte.
# For speed changes that claim "same bits"; run from the repository root.
#   scripts/same-bits.sh OLD.jar NEW.jar        exit 0: identical; 1: they differ (which files are named)
#   SAME_BITS_JAVA_FLAGS='-XX:UseAVX=2' ...      extra JVM flags for both (here: an AVX2 host's 256-bit vectors)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: scripts/same-bits.sh OLD.jar NEW.jar" >&2; exit 2; }
for j in "$1" "$2"; do [ -f "$j" ] || { echo "same-bits: no jar at $j" >&2; exit 2; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e 's/"steps": 1000/"steps": 40/' -e 's/"log_every": 100/"log_every": 10/' \
    -e 's/"samples": 100, "batch_size": 100/"samples": 10, "batch_size": 10/' experiments/quickstart.json \
    | python3 -c 'import json,sys; c=json.load(sys.stdin); c["models"]=[m for m in c["models"] if m["name"]!="nope"]; c["eval"]["lengths"]="5..10:5"; json.dump(c,sys.stdout)' \
    > "$work/config.json"
i=0
for j in "$1" "$2"; do
    i=$((i + 1))
    java --add-modules jdk.incubator.vector ${SAME_BITS_JAVA_FLAGS:-} -jar "$j" train --config "$work/config.json" --out "$work/run$i" \
        --no-progress --device cpu --jobs 1 > "$work/run$i.log" 2>&1 \
        || { echo "same-bits: training with $j failed; its log:" >&2; tail -20 "$work/run$i.log" >&2; exit 2; }
done
status=0 n=0
for f in $(cd "$work/run1" && find . -path '*/checkpoint/*.safetensors' | sort); do
    n=$((n + 1))
    if cmp -s "$work/run1/$f" "$work/run2/$f"; then echo "same   ${f#./}"; else echo "DIFFER ${f#./}"; status=1; fi
done
[ $n -gt 0 ] || { echo "same-bits: no checkpoint files under $work/run1 to compare" >&2; exit 2; }
exit $status
