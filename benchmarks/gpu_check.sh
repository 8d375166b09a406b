#!/usr/bin/env bash
# The GPU checks in one run (under 8 minutes on one GPU): the GPU tests, the training-speed
# table at 352x480 and the metric benchmark on CUDA, all written to one report.
#
#   bash benchmarks/gpu_check.sh             # on a machine with a CUDA GPU: runs/gpu_check/report.md
#   bash benchmarks/gpu_check.sh --dry-run   # the same steps on the CPU at tiny sizes (the tests run it)
#
# PYTHON picks the interpreter (default: .venv/bin/python if it exists, else python3);
# OUT_DIR the folder (default: runs/gpu_check).  The repository root goes on PYTHONPATH, so
# a machine with torch installed needs no `pip install -e .`.
set -euo pipefail
cd "$(dirname "$0")/.."
DRY_RUN=0
[ "${1:-}" = "--dry-run" ] && DRY_RUN=1
PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
OUT=${OUT_DIR:-runs/gpu_check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
REPORT="$OUT/report.md"

if [ "$DRY_RUN" = 1 ]; then
    DEVICE=cpu
    TRAIN_ARGS=(--device cpu --size 32x32 --batch 2 --steps 1 --repeats 1 --models unet --num_workers 0
                --loader_batches 1 --skip compile)
    METRIC_ARGS=(--device cpu --size 16x32 --batch 2 --repeats 1 --min-speedup 0)
else
    DEVICE=cuda
    "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU: use --dry-run')"
    TRAIN_ARGS=(--device cuda --size 352x480 --batch 8 --num_workers 4)
    METRIC_ARGS=(--device cuda)
fi

step() {  # step TITLE SECONDS COMMAND...: run it with a time limit, log it, stop the script if it fails
    local title=$1 limit=$2
    shift 2
    echo "== $title"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$OUT/$(echo "$title" | tr ' /' '__').log"
    echo "== $title: $((SECONDS - start)) s"
}

{
    echo "# GPU check ($([ "$DRY_RUN" = 1 ] && echo "dry run on the CPU" || echo "$DEVICE"))"
    echo
    echo "$(date -u +%Y-%m-%d), $("$PY" -c 'import torch; print("torch", torch.__version__, "|",
        torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA GPU")')"
} > "$REPORT"

step "GPU tests" 180 "$PY" -m pytest -o addopts="" -p no:cacheprovider -q -m gpu tests
step "training speed" 300 "$PY" benchmarks/bench_train.py "${TRAIN_ARGS[@]}" --out "$OUT/bench_train"
step "metric" 120 "$PY" benchmarks/bench_metrics.py "${METRIC_ARGS[@]}" --out "$OUT/bench_metrics.md"

{
    echo
    echo "## GPU tests"
    echo
    echo '```'
    tail -n 3 "$OUT/GPU_tests.log"
    echo '```'
    echo
    sed 's/^#/##/' "$OUT/bench_train.md"
    echo
    sed 's/^#/##/' "$OUT/bench_metrics.md"
} >> "$REPORT"
echo "wrote $REPORT"
