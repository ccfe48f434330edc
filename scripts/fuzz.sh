#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of the parsers that see untrusted
# input: the playlist rewriter, the request path resolver, the config loader and the
# token gate. Each target asserts its own properties (see fuzz/fuzz_targets/*.rs).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 30 s, every target)
#
# Seeds come from fuzz/seeds/<target>/ (demo playlists, traversal attempts, the config
# files of the tests, token shapes); what the fuzzer learns goes to a scratch corpus.
# A crash stops the run with its input saved under fuzz/artifacts/<target>/; add that
# input to fuzz/seeds/<target>/ once fixed, so every later run replays it first.
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz`); the machine's stable
# toolchain is enough with RUSTC_BOOTSTRAP=1 and no sanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(playlist request_path config token_gate)
fi
command -v cargo-fuzz >/dev/null 2>&1 || {
  echo "fuzz: cargo-fuzz is missing (cargo install --locked cargo-fuzz)" >&2
  exit 1
}
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none -O
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sg-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
total=0
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  if ! cargo fuzz run --sanitizer none -O "$target" "$scratch/$target" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target FAILED (input saved under fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  corpus=$(find "$scratch/$target" -type f | wc -l)
  printf 'fuzz: %-13s %10s executions in %ss, %s corpus entries, no crash\n' "$target" "$runs" "$seconds" "$corpus"
  total=$((total + runs))
done
echo "fuzz: $total executions in all"
