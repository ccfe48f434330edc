#!/usr/bin/env bash
# A bounded soak of topology A: `streamgate up` on a scratch copy of the repository's
# config and demo stream, and a steady crowd of simulated viewers (the `soak` example:
# validate -> playlists and segments through the token gate -> heartbeat -> release)
# while the server's memory and file descriptors are sampled. Fails on any error, on
# memory that keeps growing after warm-up, or on descriptors that keep growing.
#
#   scripts/soak.sh [SECONDS] [VIEWERS] [CYCLES_PER_SECOND]     (default 600 40 20)
#
# The long run uses a release build (built here if missing). CI runs a short one on the
# debug build it already has: SOAK_PROFILE=debug scripts/soak.sh 60 20 10.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
cd "$(dirname "$0")/.."
seconds=${1:-600}
viewers=${2:-40}
rate=${3:-20}
profile=${SOAK_PROFILE:-release}
target=${CARGO_TARGET_DIR:-target}
if [ "$profile" = release ]; then
  cargo build --release --quiet -p streamgate-cli --bin streamgate --example soak
else
  cargo build --quiet -p streamgate-cli --bin streamgate --example soak
fi
bin=$PWD/$target/$profile/streamgate
soak=$PWD/$target/$profile/examples/soak
[[ $target = /* ]] && bin=$target/$profile/streamgate && soak=$target/$profile/examples/soak

work=$(mktemp -d "${TMPDIR:-/tmp}/sg-soak.XXXXXX")
pid=""
cleanup() {
  local status=$?
  stop_server "$pid" soak
  if [ "$status" -ne 0 ] && [ -s "$work/server.log" ]; then
    echo "soak: last lines of the server's log:" >&2
    tail -n 30 "$work/server.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
read -r pport hport < <(free_ports 2)
cp -r streams "$work/streams"
cat > "$work/streamgate.toml" <<TOML
[platform]
listen = "127.0.0.1:$pport"
public_url = "http://127.0.0.1:$pport/"

[platform.rate_limits]
validate_per_minute = 100000000
refresh_per_hour = 100000000

[hls]
listen = "127.0.0.1:$hport"
public_url = "http://127.0.0.1:$hport/"
stream_root = "$work/streams"

[[events]]
id = "demo"
title = "Soak"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2099-01-01T00:00:00Z

[[events.codes]]
label = "soak"
count = $viewers
TOML
export PLAYBACK_SIGNING_SECRET INTERNAL_API_KEY ADMIN_PASSWORD_HASH
PLAYBACK_SIGNING_SECRET=$("$bin" gen-secret)
INTERNAL_API_KEY=$("$bin" gen-secret)
ADMIN_PASSWORD_HASH='$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y'
(cd "$work" && exec "$bin" up --no-watch) >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$pport/health" >/dev/null 2>&1 && break
  sleep 0.2
done
codes=$(cd "$work" && "$bin" codes export --event demo | tail -n +2 | cut -d, -f1 | paste -sd, -)
echo "soak: $profile build, $viewers viewers, $rate cycles/s for ${seconds}s (pid $pid)"
"$soak" --platform "http://127.0.0.1:$pport" --hls "http://127.0.0.1:$hport" --pid "$pid" --codes "$codes" \
  --seconds "$seconds" --rate "$rate" --sample "$(( seconds >= 120 ? 10 : 5 ))"
# The codes and tokens of the run never reach the log (the banner prints demo codes
# on purpose; everything after it is the services').
served=$(sed -n '/^Try it:/,$p' "$work/server.log" | tail -n +4)
if grep -q 'eyJ' <<<"$served"; then
  echo "soak: a JWT appears in the server log" >&2
  exit 1
fi
for code in ${codes//,/ }; do
  if grep -qF "$code" <<<"$served"; then
    echo "soak: an access code appears in the server log" >&2
    exit 1
  fi
done
echo "soak: the server log holds none of the $viewers codes or their tokens"
