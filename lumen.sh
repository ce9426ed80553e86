#!/usr/bin/env bash
# Lumen's front door: sets up, builds and runs. Everything it needs it installs itself
# (scripts/setup), so on a fresh Debian 12 machine these work as they are:
#
#   ./lumen.sh run      install dependencies, build, and start the demo (`lumen demo`): the Python
#                       documentation crawled, indexed and answered on http://127.0.0.1:8080
#   ./lumen.sh test     install dependencies, build, check formatting, run every test
#                       (then the unit tests again under AddressSanitizer + UBSan)
#   ./lumen.sh serve    install dependencies, build, and start `lumen serve` over your own data
#   ./lumen.sh build    install dependencies and build (build/lumen)
#   ./lumen.sh format   reformat the sources with clang-format-14
#
# Extra arguments after `run` go to `lumen demo`, after `serve` to `lumen serve`
# (e.g. ./lumen.sh run --port 9090).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

BUILD_DIR=${LUMEN_BUILD_DIR:-build}
JOBS=${LUMEN_JOBS:-$(nproc)}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup() {
  say "checking system packages"
  bash scripts/setup
  say "checking npm-shipped assets (scripts/assets.lock -> ${LUMEN_CACHE:-~/.cache/lumen})"
  bash scripts/fetch-asset --all
}

configure() {  # configure DIR [cmake args...]
  local dir=$1; shift
  if [[ ! -f "$dir/build.ninja" ]]; then
    cmake -S . -B "$dir" -G Ninja "$@"
  else
    cmake -S . -B "$dir" "$@" >/dev/null
  fi
}

build() {  # build [TARGET...]: everything by default
  setup
  say "building ${*:-everything} ($BUILD_DIR, $JOBS jobs)"
  configure "$BUILD_DIR"
  cmake --build "$BUILD_DIR" -j "$JOBS" ${1:+--target "$@"}
}

sources() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -- '*.h' '*.cc' '*.cu' '*.cuh'
  else
    find apps core retrieval ranking llm ads web tests bench -name '*.h' -o -name '*.cc' -o -name '*.cu'
  fi
}

format_check() {
  say "checking formatting (clang-format-14)"
  sources | xargs -r clang-format-14 --dry-run --Werror
}

run_tests() {
  build
  format_check
  say "running tests"
  # Label gpu (CUDA parity) needs a GPU: bench/gpu_check.sh runs those on the GPU machine.
  (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" --timeout 600 -LE gpu)
  if [[ "${LUMEN_SKIP_SANITIZE:-0}" != 1 ]]; then
    say "running unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
    configure build-sanitize -DLUMEN_SANITIZE=ON -DLUMEN_CUDA=OFF -DLUMEN_BENCH=OFF \
      -DLUMEN_TEST_KINDS=unit
    cmake --build build-sanitize -j "$JOBS"
    (cd build-sanitize && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
       ctest --output-on-failure -j "$JOBS" -L unit --timeout 600)
  fi
  [[ "${LUMEN_SKIP_FUZZ:-0}" == 1 ]] || run_fuzzers
}

# Builds the libFuzzer harnesses with clang and runs each for LUMEN_FUZZ_SECONDS (default 20) on
# its seed corpus. Skipped when no harness exists yet.
run_fuzzers() {
  [[ -n "$(find tests/fuzz -name CMakeLists.txt 2>/dev/null)" ]] || return 0
  say "building and running fuzzers (clang-14, ${LUMEN_FUZZ_SECONDS:-20}s each)"
  CC=clang-14 CXX=clang++-14 configure build-fuzz -DLUMEN_FUZZ=ON -DLUMEN_CUDA=OFF \
    -DLUMEN_TESTS=OFF -DLUMEN_BENCH=OFF
  local fuzzers; fuzzers=$(cat build-fuzz/fuzzers.txt)
  [[ -n "$fuzzers" ]] || return 0
  # shellcheck disable=SC2086
  cmake --build build-fuzz -j "$JOBS" --target $fuzzers
  for f in $fuzzers; do
    local corpus; corpus=$(find tests/fuzz -type d -path "*/corpus/$f" | head -n 1)
    local work; work=$(mktemp -d)
    [[ -n "$corpus" ]] && cp -r "$corpus"/. "$work"/
    local bin; bin=$(find build-fuzz/fuzz -type f -name "$f" -perm -u+x | head -n 1)
    say "fuzzing $f"
    "$bin" -max_total_time="${LUMEN_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 "$work" 2>&1 | tail -n 4
    rm -rf "$work"
  done
}

case "${1:-}" in
  run|demo)
    shift
    build lumen
    say "starting lumen demo (Ctrl-C stops it; a second run reuses its data)"
    exec "$BUILD_DIR/lumen" demo "$@"
    ;;
  serve)
    shift
    build lumen
    say "starting lumen serve (Ctrl-C stops it)"
    exec "$BUILD_DIR/lumen" serve "$@"
    ;;
  test) run_tests ;;
  build) build ;;
  format) sources | xargs -r clang-format-14 -i ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
