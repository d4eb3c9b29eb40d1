#!/usr/bin/env bash
# Every GPU check of fastnet in one command, run from the repository root of a checkout
# (or a copy of its working tree) on a machine with an NVIDIA GPU:
#
#   bash bench/gpu_check.sh [OUTDIR]              # the real GPU (OUTDIR: bench-results/gpu-check)
#   bash bench/gpu_check.sh --simulate [OUTDIR]   # no GPU: a smoke test of this script
#
# Steps, each with its log in OUTDIR and a time limit (all together under 8 minutes):
#   env        nvidia-smi, Python and library versions, the GPU numba sees, the CPU's BLAS
#              (threadpoolctl)                                        -> env.txt
#   tests_cuda the tests_cuda/ suite on the real device (FASTNET_CUDA_TESTS=gpu, the simulator
#              off): the CUDA kernels against their NumPy references and the estimators'
#              device='cuda' fits against device='cpu'              -> tests_cuda.log, .xml
#   bench      python -m bench --device cuda --quick                 -> bench.log, bench/
# summary.md lists each step, its status and time; the script exits 1 if any step failed.
#
# --simulate runs the same steps on a machine without a GPU: two tests of tests_cuda under
# Numba's CUDA simulator (the whole suite runs in .ci/run), and the bench at a tiny size,
# where it reports the GPU columns as missing.  tests/test_gpu_check.py runs it.
#
# Needs no network and no install: fastnet is pure Python, but its package fastnet.kernels
# is the top-level folder kernels/ (pyproject's package-dir), so PYTHONPATH=. cannot find it.
# The script builds a folder holding fastnet/ with every entry symlinked one by one, plus
# fastnet/kernels -> kernels/ and bench -> bench/, puts it first on PYTHONPATH and sets
# PYTHONSAFEPATH (the root itself stays off sys.path).  Python >= 3.11: $PYTHON, else python3.
# Time limits (seconds) can be changed with GPU_CHECK_TESTS_S and GPU_CHECK_BENCH_S.
set -uo pipefail

simulate=0
if [ "${1:-}" = "--simulate" ]; then
    simulate=1
    shift
fi
if [ $# -gt 1 ] || [[ "${1:-}" == -* ]]; then
    echo "usage: bash bench/gpu_check.sh [--simulate] [OUTDIR]" >&2
    exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 2
out="${1:-bench-results/gpu-check}"
mkdir -p "$out" || exit 2
out="$(cd "$out" && pwd)"
py="${PYTHON:-python3}"
tests_s="${GPU_CHECK_TESTS_S:-170}"
bench_s="${GPU_CHECK_BENCH_S:-250}"

# ---------------------------------------------------------------- fastnet, importable
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/site/fastnet"
for entry in "$root"/fastnet/*; do
    [ "$(basename "$entry")" = "__pycache__" ] && continue
    ln -s "$entry" "$work/site/fastnet/"
done
ln -s "$root/kernels" "$work/site/fastnet/kernels"
ln -s "$root/bench" "$work/site/bench"
export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
# Safe-path mode (Python >= 3.11), inherited by every child Python: the working directory
# -- the root, whose own fastnet/ lacks fastnet.kernels -- is not put first on sys.path.
export PYTHONSAFEPATH=1
if ! found="$("$py" -c 'import sys
assert sys.version_info >= (3, 11), "Python >= 3.11 (safe-path mode) is needed"
import fastnet.kernels
print(fastnet.kernels.__file__)' 2>&1)" || [[ "$found" != "$work/site/"* ]]; then
    echo "gpu_check.sh: fastnet does not import from $work/site: $found" >&2
    exit 2
fi
# Numba's cache: writable, outside the tree and OUTDIR (a cold compile, timed in the logs).
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$work/numba-cache}"
unset NUMBA_ENABLE_CUDASIM FASTNET_CUDA_TESTS

summary="$out/summary.md"
failed=0
{
    echo "# fastnet GPU check"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), $( ((simulate)) && echo "--simulate (Numba's CUDA simulator, no GPU)" || echo "the real GPU")," \
         "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
         "$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo '(with local changes)')"
    echo
    echo "| step | status | seconds | log |"
    echo "|---|---|---|---|"
} > "$summary"

# step NAME LIMIT_S COMMAND...: run with a time limit, log to OUTDIR/NAME.log, record it.
step() {
    local name=$1 limit=$2
    shift 2
    local cmd="$*"
    echo "== $name (limit ${limit} s): ${cmd%%$'\n'*}"
    local start rc status
    start=$(date +%s)
    timeout --kill-after=15 "$limit" "$@" > "$out/$name.log" 2>&1
    rc=$?
    local took=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        status="passed"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        status="FAILED (over ${limit} s)"
        failed=1
    else
        status="FAILED (exit $rc)"
        failed=1
    fi
    echo "| $name | $status | $took | $name.log |" >> "$summary"
    tail -n 5 "$out/$name.log"
    echo "== $name: $status in $took s"
}

# ------------------------------------------------------------------ the environment
environment() {
    echo "## nvidia-smi"
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi
        nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit \
            --format=csv
    else
        echo "nvidia-smi: not found"
    fi
    echo
    echo "## CPU"
    lscpu 2>/dev/null | grep -E "^(Model name|CPU\(s\)|Thread|Flags)" | cut -c1-200
    echo
    echo "## Python"
    "$py" - <<'PY'
import importlib, importlib.metadata, sys

print("python", sys.version.replace("\n", " "))
import fastnet, fastnet.kernels
print("fastnet", fastnet.__version__, "from", fastnet.__file__, "kernels from",
      fastnet.kernels.__file__)
for dist in ("numpy", "scipy", "scikit-learn", "numba", "numba-cuda", "llvmlite",
             "cuda-bindings", "cupy-cuda13x", "cupy-cuda12x", "torch", "jax", "jaxlib",
             "threadpoolctl"):
    try:
        print(f"{dist} {importlib.metadata.version(dist)}")
    except importlib.metadata.PackageNotFoundError:
        print(f"{dist}: not installed")
from fastnet import _device
problem = _device.cuda_problem()
print("simulator:", _device.simulating(), "| fastnet device='cuda':",
      "usable" if problem is None else f"{problem[0].__name__}: {problem[1]}")
if problem is None and not _device.simulating():
    from numba import cuda
    dev = cuda.get_current_device()
    print("numba sees:", dev.name.decode() if isinstance(dev.name, bytes) else dev.name,
          "compute capability", dev.compute_capability)
for mod, probe in (("cupy", "cupy.cuda.runtime.getDeviceCount()"),
                   ("torch", "torch.cuda.is_available(), torch.version.cuda"),
                   ("jax", "jax.devices()")):
    try:
        m = importlib.import_module(mod)
        print(mod, "->", eval(probe, {mod: m}))
    except Exception as exc:  # not installed, or no device: say which
        print(mod, "->", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
import numpy, scipy.linalg  # noqa: F401  (load the BLAS libraries threadpoolctl reports)
from threadpoolctl import threadpool_info
for pool in threadpool_info():
    print("BLAS:", pool.get("internal_api"), pool.get("version"), pool.get("architecture"),
          "threads", pool.get("num_threads"), pool.get("filepath"))
PY
}

echo "fastnet GPU check: $( ((simulate)) && echo "--simulate" || echo "real GPU"), reports in $out"
export py
step env 50 bash -c "$(declare -f environment); environment"
cp "$out/env.log" "$out/env.txt"

# ---------------------------------------------------------------- the CUDA test suite
if [ ! -d tests_cuda ]; then
    echo "tests_cuda/ is missing" > "$out/tests_cuda.log"
    echo "| tests_cuda | FAILED (tests_cuda/ is missing) | 0 | tests_cuda.log |" >> "$summary"
    failed=1
elif ((simulate)); then
    # A smoke test of the step, not the suite: .ci/run runs all of tests_cuda under the
    # simulator in its own process (minutes there); here two tests prove the step runs it.
    step tests_cuda "$tests_s" env NUMBA_ENABLE_CUDASIM=1 \
        "$py" -m pytest -q -rA --durations=10 -p no:cacheprovider \
        --junitxml="$out/tests_cuda.xml" tests_cuda \
        -k "test_the_device_is_the_one_this_run_asked_for or test_import_fastnet_does_not"
else
    step tests_cuda "$tests_s" env FASTNET_CUDA_TESTS=gpu \
        "$py" -m pytest -q -rA --durations=10 -p no:cacheprovider \
        --junitxml="$out/tests_cuda.xml" tests_cuda
fi

# ------------------------------------------------------------------------ the bench
if ((simulate)); then
    # The simulator would run a bench for hours: the bench at a tiny size on the CPU, which
    # reports the GPU columns it cannot measure here.
    step bench "$bench_s" "$py" -m bench --device cuda --quick --workloads tiny \
        --libraries fastnet --repeats 1 --epochs 2 --no-startup --no-memory --no-scaling \
        --no-plot --out "$out/bench"
else
    step bench "$bench_s" "$py" -m bench --device cuda --quick --out "$out/bench"
fi

{
    echo
    echo "tests_cuda: $(grep -E '^(=+ )?[0-9]+ (passed|failed|error|xfailed|skipped)' \
        "$out/tests_cuda.log" 2>/dev/null | tail -n 1 || true)"
    [ -f "$out/bench/results.md" ] && echo "bench report: bench/results.md"
    echo
    echo "The environment (env.txt):"
    echo
    echo '```text'
    grep -E "^(fastnet|numpy|numba|numba-cuda|cupy|torch|jax|scikit-learn|simulator|numba sees|BLAS|NVIDIA|python)" \
        "$out/env.txt" | head -n 30
    echo '```'
} >> "$summary"
echo
cat "$summary"
exit "$failed"
