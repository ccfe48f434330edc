#!/usr/bin/env bash
# The token gate's cost per request, as ratios against a plain HMAC-SHA256 of the same
# signing input measured in the same run (criterion; see crates/streamgate-hls/benches/gate.rs).
#
#   scripts/bench-gate.sh
#
# Prints the criterion output, then one line per measurement: mean time and its ratio
# to the HMAC reference. A memoised check below 1.0 means a request with a known token
# costs less than computing one HMAC. The bench also prints the memo's bytes per entry
# with the memo full ("memo: ... bytes per entry").
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked -p streamgate-hls --bench gate -- --noplot "$@"
python3 - <<'PY'
import json, pathlib
base = pathlib.Path("target/criterion/gate")
def mean(name):
    return json.loads((base / name / "new" / "estimates.json").read_text())["mean"]["point_estimate"]
ref = mean("hmac_reference")
print()
print(f"{'measurement':<22} {'mean':>10}  ratio to one HMAC-SHA256")
for name in ["hmac_reference", "verify_jsonwebtoken", "verify_unmemoised", "verify_borrowed", "check_memoised"]:
    m = mean(name)
    print(f"{name:<22} {m:>8.0f} ns  {m / ref:6.2f}")
PY
