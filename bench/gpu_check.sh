#!/usr/bin/env bash
# bench/gpu_check.sh — the whole GPU check of the CUDA engine (issue 7) in one call, made for the
# bare GPU machine (nvcc, CMake, ninja, Python; none of the Debian -dev packages). It
#   1. configures an engine-only build (core + llm + llm/cuda, no FAISS/gumbo/curl/SQLite/
#      httplib; GoogleTest and ICU used only when present) for sm_90 (+ compute_90 PTX),
#   2. builds the CUDA parity test and the CUDA benchmark,
#   3. runs the CUDA parity tests against the CPU engine: the tiny models (MoE and dense, FP8
#      and BF16), then the 4-layer model of Qwen3-30B-A3B shapes,
#   4. runs bench_cuda_engine: device-to-device copy bandwidth, decode tokens/s at batch 1 and
#      8, prefill tokens/s at 512 tokens, decode bandwidth as a fraction of the copy bandwidth,
#      4 layers measured and extrapolated to 48,
#   5. when time is left: the tiny parity test under compute-sanitizer (memcheck) if it failed,
#      and one profiled decode step (ncu: time and DRAM bytes of every kernel),
# and prints a summary. Budget: LUMEN_GPU_BUDGET seconds (default 420, under the issue's 8
# minutes); each phase's timeout is cut to what is left.
#
# How to call it (from the development machine):
#   bash bench/gpu_carry.sh      # copies /usr/include/nlohmann into third_party_carry/
#   device tool: run(command="bash bench/gpu_check.sh", carry=["third_party_carry"],
#                    timeout_s=540)
# Logs go to $OUT (the device tool brings back at most 8 files: this script writes 8) or
# /tmp/lumen-gpu-check.
#
# When the build there fails and third_party_carry/prebuilt/ holds binaries built here
# (`bash bench/gpu_carry.sh --prebuilt`), the checks run those instead and say so.
#
# Environment: LUMEN_GPU_BUILD_DIR (default build-gpu), LUMEN_GPU_MODEL_DIR (default
# /tmp/lumen-qwen3-30b-a3b-shapes-4l), LUMEN_GPU_JOBS (default nproc), LUMEN_GPU_BUDGET.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
build=${LUMEN_GPU_BUILD_DIR:-build-gpu}
model=${LUMEN_GPU_MODEL_DIR:-/tmp/lumen-qwen3-30b-a3b-shapes-4l}
jobs=${LUMEN_GPU_JOBS:-$(nproc)}
budget=${LUMEN_GPU_BUDGET:-420}
logs=${OUT:-/tmp/lumen-gpu-check}
mkdir -p "$logs"
say() { printf '==> [%3ds] %s\n' $((SECONDS - start)) "$*"; }
left() { echo $((budget - (SECONDS - start))); }
# timeout of at most $1 seconds and no more than the budget leaves
cap() { local l; l=$(left); ((l < $1)) && echo $((l > 1 ? l : 1)) || echo "$1"; }
status=()

main() {

say "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem \
  --format=csv,noheader || true
nvcc --version | tail -2
g++ --version | head -1
cmake --version | head -1
echo "ninja $(ninja --version); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo)"

say "configure (engine only, CUDA sm_90)"
# RelWithDebInfo (the default; device code is optimised by ptxas either way): GCC 12 at -O3
# (Release) reports a false -Wrestrict in libstdc++. LUMEN_WERROR=OFF: this machine's compiler
# is not the one CI checks, and a new warning must not cost the run.
parity=$build/tests/unit/llm/llm_cuda_parity_test
bench=$build/bench/llm/bench_cuda_engine
built=0
if timeout "$(cap 120)" cmake -S . -B "$build" -G Ninja -DLUMEN_WERROR=OFF \
    -DLUMEN_ENGINE_ONLY=ON -DLUMEN_CUDA=ON -DLUMEN_TEST_KINDS=unit -DLUMEN_BENCH=ON \
    -DLUMEN_GPU_MODEL_DIR="$model" >"$logs/build.txt" 2>&1; then
  grep -E "Lumen:|GTest|ICU|nlohmann" "$logs/build.txt"
  say "build ($jobs jobs)"
  if timeout "$(cap 240)" ninja -C "$build" -j "$jobs" llm_cuda_parity_test bench_cuda_engine \
      >>"$logs/build.txt" 2>&1; then
    built=1
    status+=("build for sm_90 on this machine: OK ($((SECONDS - start)) s from the start)")
  fi
fi
if [[ $built == 0 ]]; then
  grep -E "error|FAILED|Error" -A5 "$logs/build.txt" | head -60
  if [[ -x third_party_carry/prebuilt/llm_cuda_parity_test ]]; then
    status+=("build on this machine: FAILED (see build.txt); the checks ran the binaries built on the development machine")
    parity=third_party_carry/prebuilt/llm_cuda_parity_test
    bench=third_party_carry/prebuilt/bench_cuda_engine
  else
    say "build FAILED"
    exit 1
  fi
fi
say "built"

# Runs "$@" with a timeout of at most $2 seconds, output to $logs/$1; records the outcome.
phase() {
  local name=$1 limit=$2 rc
  shift 2
  if (($(left) < 10)); then
    status+=("$name: not run (budget spent)")
    return 1
  fi
  timeout "$(cap "$limit")" "$@" >"$logs/$name.txt" 2>&1
  rc=$?
  case $rc in
    0) status+=("$name: PASSED") ;;
    77) status+=("$name: SKIPPED, no usable GPU (FAILED as a GPU check)") ;;
    124) status+=("$name: FAILED (timed out)") ;;
    *) status+=("$name: FAILED (exit $rc)") ;;
  esac
  return $rc
}

say "CUDA parity, tiny models"
phase parity_tiny 120 "$parity"
tiny_rc=$?
grep -E "^ +ok |FAIL|SKIPPED|PASSED|FAILED|^[a-z].*\(cuda" "$logs/parity_tiny.txt" | head -70

say "benchmark (writes the realistic-shape model when missing)"
phase bench 150 "$bench" --layers 4 --dir "$model" --decode 64 --prefill 512
bench_rc=$?
cat "$logs/bench.txt"

say "benchmark variants: without programmatic dependent launch; GEMV rows per warp 4 and 1"
# Each variant prints its decode lines, labelled (LUMEN_CUDA_GEMV_ROWS: docs/MODELS.md).
variants() {
  set -o pipefail
  local v rc=0
  for v in "--pdl 0" "rows=4" "rows=1"; do
    if [[ $v == rows=* ]]; then
      LUMEN_CUDA_GEMV_ROWS=${v#rows=} "$bench" --layers 4 --dir "$model" --decode 64 --prefill 512
    else
      # shellcheck disable=SC2086
      "$bench" --layers 4 --dir "$model" --decode 64 --prefill 512 $v
    fi | grep -E "decode batch|prefill .*tokens/s|fraction" | sed "s/^/[$v] /" || rc=1
  done
  return $rc
}
export -f variants
export bench model
phase bench_variants 150 bash -c variants
cat "$logs/bench_variants.txt"

say "CUDA parity, realistic-shape model"
phase parity_realistic 150 "$parity" --realistic "$model"
grep -E "^ +ok |FAIL|SKIPPED|PASSED|FAILED|^realistic" "$logs/parity_realistic.txt" | head -40

if [[ $tiny_rc != 0 && $tiny_rc != 77 ]] && command -v compute-sanitizer >/dev/null; then
  say "tiny parity under compute-sanitizer (memcheck)"
  phase sanitizer 100 compute-sanitizer --tool memcheck --print-limit 20 "$parity"
  grep -E "=========|FAIL" "$logs/sanitizer.txt" | head -60
fi

ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
if [[ $bench_rc == 0 && -n $ncu ]]; then
  say "one decode step per kernel (ncu; batch 1, then batch 8)"
  phase ncu 90 "$ncu" --clock-control none --profile-from-start off --csv --page raw --print-units base \
    --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
    "$bench" --layers 4 --dir "$model" --decode 3 --profile 1
  python3 bench/llm/ncu_summary.py "$logs/ncu.txt" || true
fi

say "summary (${SECONDS}s in all)"
printf '  %s\n' "${status[@]}"
[[ "${status[*]}" != *FAILED* ]]
}

main 2>&1 | tee "$logs/summary.txt"
exit "${PIPESTATUS[0]}"
