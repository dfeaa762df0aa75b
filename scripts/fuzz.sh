#!/usr/bin/env bash
# Runs hydrant's libFuzzer targets (fuzz/, docs/reliability.md), one after
# the other, each for FUZZ_SECONDS (default 60). `make fuzz` builds them first.
#   scripts/fuzz.sh BUILD_DIR [TARGET...]     TARGET: put_records, sigv4, ... (default: all)
# Each target starts from its committed seeds (fuzz/corpus/NAME/) plus what
# earlier runs found (BUILD_DIR/fuzz-out/NAME/corpus/), and writes crashes,
# leaks and timeouts to BUILD_DIR/fuzz-out/NAME/ (crash-*, leak-*, timeout-*).
# Exits non-zero when any target found something, naming each reproducer and the
# command that replays it.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
shift || true
seconds=${FUZZ_SECONDS:-60}
# The targets make and remove scratch folders for every input: keep them in memory.
if [ -z "${TMPDIR:-}" ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$here"/fuzz/*_fuzz.cc; do
    n=$(basename "$f" _fuzz.cc)
    targets+=("$n")
  done
fi

failed=0
for t in "${targets[@]}"; do
  bin="$build/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is missing (make fuzz builds it)" >&2
    failed=1
    continue
  fi
  out="$build/fuzz-out/$t"
  mkdir -p "$out/corpus"
  args=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=65536
        -print_final_stats=1 -artifact_prefix="$out/")
  [ -f "$here/fuzz/dict/$t.dict" ] && args+=(-dict="$here/fuzz/dict/$t.dict")
  seeds=()
  [ -d "$here/fuzz/corpus/$t" ] && seeds+=("$here/fuzz/corpus/$t")
  before=$(ls "$out" | grep -E '^(crash|leak|timeout|oom)-' | sort)
  echo "fuzz: $t for ${seconds}s (log: $out/fuzz.log)"
  "$bin" "${args[@]}" "$out/corpus" "${seeds[@]}" > "$out/fuzz.log" 2>&1
  rc=$?
  after=$(ls "$out" | grep -E '^(crash|leak|timeout|oom)-' | sort)
  found=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^$' || true)
  stats=$(grep -E '^stat::(number_of_executed_units|new_units_added)' "$out/fuzz.log" |
          sed 's/^stat:://' | tr -s ' \n' ' ')
  cov=$(grep -oE 'cov: [0-9]+' "$out/fuzz.log" | tail -1)
  if [ $rc -ne 0 ] || [ -n "$found" ]; then
    failed=1
    echo "fuzz: $t FOUND A PROBLEM (exit $rc); end of its log:"
    grep -E 'ERROR|FUZZ_CHECK|runtime error|SUMMARY' "$out/fuzz.log" | head -5 | sed 's/^/  /'
    for f in $found; do
      echo "  reproducer: $out/$f   replay: $bin $out/$f"
    done
  else
    echo "fuzz: $t ok ($cov; $stats)"
  fi
done
exit $failed
