#!/usr/bin/env bash
# End-to-end figures of the demo: time to crawl and index the Python documentation, HTTP query
# latency (extractive answers, p50/p95, uncached and cached) over the evaluation questions, the
# server's memory in use, and the answer-quality figures of `lumen eval answers`.
#
#   bench/demo/e2e.sh [DATA_DIR]     (default: a fresh temporary folder, removed afterwards)
#
# Needs build/lumen (./lumen.sh build) and python3-doc. Uses ports 18080 (search) and 18079
# (corpus) on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LUMEN=${LUMEN:-build/lumen}
QUESTIONS=bench/demo/questions.jsonl
fresh=0
if [[ $# -ge 1 ]]; then data=$1; else data=$(mktemp -d); fresh=1; fi
log=$(mktemp)
cleanup() {
  [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -f "$log"
  [[ $fresh == 1 ]] && rm -rf "$data"
  return 0
}
trap cleanup EXIT

start=$(date +%s.%N)
# (the per-client rate limit is off: one client asking 90 questions back to back would get 429s
# after its burst of 20, and the latency of a refusal is not the latency of an answer)
"$LUMEN" demo --data-dir "$data" --port 18080 --corpus-port 18079 --log-level warn \
  --set search.rate_per_second=0 >"$log" 2>&1 &
pid=$!
until grep -q "Lumen demo ready" "$log"; do
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "lumen demo exited" >&2; exit 1; }
  sleep 0.5
done
ready=$(date +%s.%N)
echo "== build (crawl + index + seed) and start"
grep -E "^crawl |^  (skipped|failed)|^indexed|reusing" "$log" || true
awk -v a="$start" -v b="$ready" 'BEGIN { printf "ready after %.1f s (wall clock, from the start of lumen demo)\n", b - a }'

latencies() {  # prints one time_total (s) per question
  python3 -c 'import json,sys,urllib.parse
for line in open(sys.argv[1]):
    print(urllib.parse.quote_plus(json.loads(line)["q"]))' "$QUESTIONS" |
    while read -r q; do
      curl -s -o /dev/null -A "Mozilla/5.0 (bench)" -w '%{http_code} %{time_total}\n' \
        "http://127.0.0.1:18080/api/v1/search?q=$q"
    done | awk '$1 != 200 { print "HTTP " $1 " for a question" > "/dev/stderr"; bad = 1 }
                { print $2 } END { exit bad }'
}
percentiles() {
  sort -n | awk '{v[NR]=$1} END {p50=v[int(0.5*(NR-1)+1.5)]; p95=v[int(0.95*(NR-1)+1.5)];
    printf "p50 %.1f ms  p95 %.1f ms  (%d queries)\n", p50*1000, p95*1000, NR}'
}
echo "== HTTP /api/v1/search, extractive answers, one client"
echo -n "uncached: "; latencies | percentiles
echo -n "cached:   "; latencies | percentiles
echo "== memory in use by the running demo (search server + corpus server)"
grep -E "VmRSS|VmHWM" /proc/$pid/status
echo "== answer quality (lumen eval answers)"
"$LUMEN" eval answers --questions "$QUESTIONS" --data-dir "$data/demo" --log-level error
