#!/usr/bin/env bash
# Load test of Lumen's HTTP front door with wrk, on 127.0.0.1 only, each run bounded (<= 10 s):
#
#   1. cached GET /api/v1/search for a question no campaign targets (the result cache alone);
#   2. cached GET /api/v1/search for a question with a sponsored slot (cache + auction + the
#      slot's reservation in the ledger: the result cache never holds sponsored slots);
#   3. the impression beacon POST /api/v1/impression?t=..., each token used once (billable, a
#      durable ledger write per beacon), tokens collected from run 2's responses.
#
# Usage: bench/web/load.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#   (default build, 10, 64). Needs wrk (scripts/setup) and BUILD_DIR/lumen and
#   BUILD_DIR/bench/web/web_load_fixture (configure with -DLUMEN_BENCH=ON).
# Prints requests/s and latency percentiles (p50/p90/p99) per run, and the ledger's counts.
set -euo pipefail

BUILD=${1:-build}
SECONDS_PER_RUN=${2:-10}
CONNECTIONS=${3:-64}
THREADS=${WRK_THREADS:-2}
export WRK_THREADS=$THREADS
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "load.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is not installed (scripts/setup installs it)"
[[ -x "$BUILD/lumen" ]] || die "$BUILD/lumen not built"
[[ -x "$BUILD/bench/web/web_load_fixture" ]] || die "$BUILD/bench/web/web_load_fixture not built (-DLUMEN_BENCH=ON)"
(( SECONDS_PER_RUN >= 1 && SECONDS_PER_RUN <= 10 )) || die "SECONDS must be 1..10"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lumen-load.XXXXXX")
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BUILD/bench/web/web_load_fixture" "$WORK/data" >/dev/null
# Limits that would throttle a load generator on one address are lifted; nothing else changes
# (ads.durability stays "full": every acknowledged beacon is fsynced).
LUMEN_SEARCH__RATE_PER_SECOND=0 LUMEN_ADS__MAX_BEACONS_PER_CLIENT_PER_MINUTE=0 \
  LUMEN_LOG__LEVEL=warn \
  "$BUILD/lumen" serve --host 127.0.0.1 --port 0 --data-dir "$WORK/data" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 100); do
  grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break
  sleep 0.1
done
URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$WORK/serve.out" | head -n1)
[[ -n "$URL" ]] || { cat "$WORK/serve.err" >&2; die "lumen serve did not start"; }
echo "lumen serve at $URL (pid $SERVER_PID); $THREADS wrk threads, $CONNECTIONS connections, ${SECONDS_PER_RUN}s per run"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Requests present themselves as a desktop browser: the invalid-traffic filter serves no slots to
# (and bills no beacons from) clients without a user agent or with a bot's (curl, wrk).
UA="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PLAIN_Q="api/v1/search?q=how+to+serialize+an+object+with+json.dumps"
ADS_Q="api/v1/search?q=how+do+I+read+a+csv+file"
# Warm the cache (and check both answer).
curl -fsS -A "$UA" "$URL$PLAIN_Q" >/dev/null
curl -fsS -A "$UA" "$URL$ADS_Q" | grep -q '"impression_url"' || die "no sponsored slot for the CSV question"

run() {  # NAME ARGS...
  local name=$1; shift
  echo
  echo "== $name"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 5s --latency -H "User-Agent: $UA" "$@" | \
    grep -E 'Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx|Socket errors'
}

run "cached search, no sponsored slot: GET /$PLAIN_Q" "$URL$PLAIN_Q"
TOKENS="$WORK/tokens.txt" run "cached search with a sponsored slot: GET /$ADS_Q" \
  -s "$HERE/collect_tokens.lua" "$URL$ADS_Q"
echo "impression tokens collected: $(wc -l <"$WORK/tokens.txt")"
TOKENS="$WORK/tokens.txt" run "impression beacon: POST /api/v1/impression?t=<each token once>" \
  -s "$HERE/beacons.lua" "$URL"
echo
"$BUILD/lumen" ads report --by campaign --data-dir "$WORK/data" | sed 's/^/ledger: /'
"$BUILD/lumen" ads verify --data-dir "$WORK/data" | sed 's/^/ledger: /'
