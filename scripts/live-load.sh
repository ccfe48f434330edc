#!/usr/bin/env bash
# A live night in one minute: ffmpeg encodes a live stream (2 s segments) into a local
# origin, StreamGate proxies it, 20 viewers play it for 60 s, and a probe polls the
# playlist at the origin and through StreamGate every 20 ms. Prints the listing delay
# through StreamGate vs the origin, the first-fetch time of a new segment on both, the
# segment cache's hit ratio and the segment requests that reached the origin
# (see crates/streamgate-hls/tests/it/live_load.rs).
#
#   scripts/live-load.sh                      # 60 s, 20 viewers
#   LIVE_LOAD_SECONDS=120 LIVE_LOAD_VIEWERS=50 scripts/live-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -q -p streamgate-hls --test it live_load -- --ignored --nocapture
