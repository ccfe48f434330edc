#!/usr/bin/env bash
# What live ingest costs and how far behind the encoder viewers are, on this machine.
#
#   scripts/ingest-bench.sh [SECONDS]        (default 30 s of publishing per run)
#   STREAMGATE_BIN=target/release/streamgate scripts/ingest-bench.sh
#
# 1. Delay: `streamgate up` with an SRT ingest event (2 s segments, the default 1080p
#    source), ffmpeg publishing a 1080p30 test pattern in real time. Prints the time from
#    the encoder's start to the first segment a viewer can fetch through the gate (with a
#    real playback token), the availability delay of later segments (when a segment
#    appears in the playlist, after its last frame was captured), and the glass-to-glass
#    estimate for hls.js's default live position (3 segments behind the edge).
# 2. CPU: `streamgate ingest` alone with one rendition of the default ladder at a time,
#    then the whole ladder; the ingest ffmpeg's CPU seconds per second of video (from
#    /proc), its speed (1.0 = real time), and how many such events one core sustains.
#    The publisher's own CPU is not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-30}"
BIN="${STREAMGATE_BIN:-target/debug/streamgate}"
[ -x "$BIN" ] || { echo "no $BIN: cargo build first (or set STREAMGATE_BIN)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed" >&2; exit 1; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
clk() { date +%s.%N; }

publish() { # url seconds
  ffmpeg -hide_banner -nostdin -loglevel error -re \
    -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t "$2" -c:v libx264 -preset ultrafast -tune zerolatency -g 60 -pix_fmt yuv420p \
    -b:v 6000k -c:a aac -f mpegts "$1" 2>/dev/null &
  pids+=($!)
  echo $!
}

echo "== delay: encoder to viewer (SRT, 2 s segments, one 360p rendition)"
hls_port=$(free_port); ingest_port=$(free_port)
mkdir -p "$work/a"
cat > "$work/a/streamgate.toml" <<TOML
[platform]
listen = "127.0.0.1:0"
[hls]
listen = "127.0.0.1:$hls_port"
public_url = "http://127.0.0.1:$hls_port"
stream_root = "streams"
[ingest]
public_host = "127.0.0.1"
bind = "127.0.0.1"
[[events]]
id = "bench"
title = "Bench"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2099-01-01T00:00:00Z
[events.ingest]
port = $ingest_port
renditions = [{ name = "360p", height = 360, video_kbps = 800 }]
[[events.codes]]
label = "bench"
count = 1
TOML
(cd "$work/a" && exec "$BIN" up --no-watch 2> up.log) &
pids+=($!)
for _ in $(seq 1 120); do grep -q "codes of bench" "$work/a/up.log" 2>/dev/null && break; sleep 0.5; done
code=$(grep "codes of bench" "$work/a/up.log" | awk '{print $NF}')
platform=$(grep -m1 "^  platform " "$work/a/up.log" | sed -E 's/.*listening on ([0-9.:]+)\).*/\1/')
url=$(cd "$work/a" && "$BIN" ingest-url --event bench 2>/dev/null)
token=$(curl -s "http://$platform/api/tokens/validate" -H 'content-type: application/json' \
  -d "{\"code\":\"$code\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["playbackToken"])')
media="http://127.0.0.1:$hls_port/streams/bench/360p/index.m3u8"
t0=$(clk)
publish "$url" "$SECONDS_PER_RUN" > /dev/null
first=""
declare -A seen
delays=()
end=$(python3 -c "print($t0 + $SECONDS_PER_RUN)")
while python3 -c "import sys; sys.exit(0 if $(clk) < $end else 1)"; do
  body=$(curl -s -H "Authorization: Bearer $token" "$media" || true)
  now=$(clk)
  if [ -z "$first" ] && grep -q '^seg_' <<<"$body"; then
    seg=$(grep -m1 '^seg_' <<<"$body")
    if curl -sf -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$hls_port/streams/bench/360p/$seg"; then
      first=$(python3 -c "print(f'{$now - $t0:.2f}')")
    fi
  fi
  # Each new segment: when it appeared, against when its last frame was captured.
  python3 - "$body" "$t0" "$now" > "$work/new.txt" <<'PY'
import sys
body, t0, now = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
t, out = 0.0, []
for line in body.splitlines():
    if line.startswith("#EXTINF:"):
        d = float(line[8:].split(",")[0]); t += d
    elif line.startswith("seg_"):
        out.append(f"{line} {now - (t0 + t):.2f}")
print("\n".join(out))
PY
  while read -r name delay; do
    [ -n "$name" ] || continue
    if [ -z "${seen[$name]:-}" ]; then seen[$name]=1; delays+=("$delay"); fi
  done < "$work/new.txt"
  sleep 0.1
done
python3 - "$first" "${delays[@]}" <<'PY'
import statistics, sys
first, delays = sys.argv[1], [float(d) for d in sys.argv[2:]]
later = delays[2:] or delays  # the first segments carry the encoder's start-up
print(f"encoder start -> first segment playable through the gate: {first} s")
if later:
    med = statistics.median(later)
    print(f"segment available after its last frame: median {med:.2f} s over {len(later)} segments")
    print(f"glass-to-glass estimate (hls.js 3 segments behind the edge, 2 s segments): {med + 3 * 2:.1f} s")
PY
kill "${pids[0]}" 2>/dev/null || true

echo
echo "== CPU of the ingest's ffmpeg, default ladder (x264 veryfast), ${SECONDS_PER_RUN} s of 1080p30 each"
run_ladder() { # label renditions-toml
  local dir="$work/$1" port hp
  port=$(free_port); hp=$(free_port)
  mkdir -p "$dir"
  cat > "$dir/streamgate.toml" <<TOML
[hls]
stream_root = "origin"
[ingest]
public_host = "127.0.0.1"
bind = "127.0.0.1"
[[events]]
id = "bench"
title = "Bench"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2099-01-01T00:00:00Z
[events.ingest]
port = $port
$2
TOML
  (cd "$dir" && INGEST_SECRET=ingest-bench-secret-0123456789abcdefgh exec "$BIN" ingest --health-listen "127.0.0.1:$hp" 2> ingest.log) &
  local sg=$!
  sleep 2
  local url
  url=$(cd "$dir" && INGEST_SECRET=ingest-bench-secret-0123456789abcdefgh "$BIN" ingest-url --event bench)
  publish "$url" "$SECONDS_PER_RUN" > /dev/null
  local ff=""
  for _ in $(seq 1 100); do ff=$(pgrep -P "$sg" ffmpeg || true); [ -n "$ff" ] && break; sleep 0.1; done
  sleep 8 # past the start-up burst
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$ff/stat")
  local w1; w1=$(clk)
  sleep $(( SECONDS_PER_RUN - 12 ))
  read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$ff/stat")
  local w2; w2=$(clk)
  local speed
  speed=$(curl -s "http://127.0.0.1:$hp/health" | python3 -c 'import json,sys; h=json.load(sys.stdin)["ingest"][0]; print(h["speed"])')
  python3 - "$1" "$u1" "$s1" "$u2" "$s2" "$w1" "$w2" "$speed" "$(getconf CLK_TCK)" <<'PY'
import sys
label, u1, s1, u2, s2, w1, w2, speed, hz = sys.argv[1:]
cpu = (int(u2) + int(s2) - int(u1) - int(s1)) / int(hz)
wall = float(w2) - float(w1)
per = cpu / wall
sp = float(speed) if speed not in ("None", "") else float("nan")
# CPU per second of *video*: at speed below 1 the machine is saturated.
per_video = per / sp if sp == sp and sp > 0 else float("nan")
print(f"{label:>10}: {per:.2f} CPU-s per wall second, speed {sp:.2f}x, {per_video:.2f} CPU-s per second of video -> {1 / per_video if per_video == per_video else float('nan'):.2f} such events per core")
PY
  kill "$sg" 2>/dev/null || true
  wait "$sg" 2>/dev/null || true
}
run_ladder 1080p 'renditions = [{ name = "1080p", height = 1080, video_kbps = 5000, audio_kbps = 160 }]'
run_ladder 720p 'renditions = [{ name = "720p", height = 720, video_kbps = 2800 }]'
run_ladder 480p 'renditions = [{ name = "480p", height = 480, video_kbps = 1400 }]'
run_ladder 360p 'renditions = [{ name = "360p", height = 360, video_kbps = 800, audio_kbps = 96 }]'
run_ladder ladder '# the default ladder'
run_ladder passthrough 'passthrough = true'
