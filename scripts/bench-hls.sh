#!/usr/bin/env bash
# Macro benchmark of the HLS server (DESIGN.md section 5): StreamGate's token-gated file
# serving against nginx serving the very same files with no checks at all, measured
# in one run on one machine, reported as ratios. One row per target, nginx and then
# StreamGate back to back (same path; StreamGate with Authorization: Bearer <token>),
# one wrk run of DURATION seconds each:
#
#   playlist      /streams/demo/360p/index.m3u8   (315 B) at CONNECTIONS
#   segment       /streams/demo/360p/seg_000.ts   (~250 KB) at each SEGMENT_CONNECTIONS
#   segment-2mb   /streams/demo/360p/seg_2mb.ts   (BIG_SEGMENT_KB, made for the run from
#                 the sample segments: real segments of 2-6 s at 3-6 Mbit/s are 1-4 MB)
#                 at each SEGMENT_CONNECTIONS
#
# With the defaults that is 18 runs: about 3.5 min at DURATION=10, 2 min at DURATION=5.
# Both servers serve a copy of streams/demo in the temporary directory (so the 2 MB
# segment never lands in the repository).
#
# nginx gets the same Authorization header (it ignores it) so that request sizes match.
# Every StreamGate request goes through the whole gate (signature/memo, expiry, path
# scope, revocations), so the ratio is the price of the checks plus of the server itself.
# Also reported per row: CPU time per request (user + system, microseconds) of each
# server's processes during the measured run (nginx: master and workers), from
# /proc/<pid>/stat; on a machine shared with other work this is steadier than req/s.
# Also reported: StreamGate's resident memory (VmRSS) when idle before any load, right
# after the load, and its peak (VmHWM). The targets (issue 22) are StreamGate >= 0.95 x
# nginx req/s for the playlist and >= 0.9 x for every segment row; they are printed,
# never enforced (timings are not assertions). Not a test.
#
# StreamGate is started from the release binary (`streamgate up`, platform and HLS server
# in one process) with a throw-away config, SQLite database and development secrets in a
# temporary directory; a playback token is obtained through the public API with one of
# the demo codes it prints. Everything listens on 127.0.0.1 on free ports; everything
# (processes, files) is removed on exit. wrk and the servers share the CPU: read ratios,
# not absolute figures.
#
#   scripts/bench-hls.sh
#
# Environment:
#   DURATION=10       seconds per measured wrk run
#   WARMUP=1          seconds of unmeasured wrk load before each measured run (0: none)
#   CONNECTIONS=64    wrk -c for the playlist
#   SEGMENT_CONNECTIONS="16 64 256 1024"  wrk -c values for each segment size
#   BIG_SEGMENT_KB=2048  size of the large segment (KiB)
#   THREADS=2         wrk -t
#   NGINX_WORKERS=auto  nginx worker_processes (auto = one per core, like tokio's default)
#   SKIP_BUILD=1      do not run `cargo build --release --locked -p streamgate-cli`
#   NGINX_ONLY=1      measure nginx only (no build, no StreamGate): a dry run of the harness
#   STREAMGATE_BIN=path  run this binary instead of target/release/streamgate (no build)
#   APT_WAIT=300      seconds to wait for a running apt/dpkg before installing nginx/wrk
#   TARGETS="playlist segment segment-2mb"  which rows to measure
#   PERF_DIR=dir      record each measured StreamGate run with `perf record -g` into
#                     dir/<row>.data (read with `perf report -i ...`); perf's own cost
#                     lowers that run's figures (PERF_FREQ=999, PERF_CALL_GRAPH=fp or dwarf)
#
# Needs nginx and wrk; if either is missing it is installed with apt-get
# (nginx-light, wrk), which needs root or sudo.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
repo="$PWD"

duration="${DURATION:-10}"
warmup="${WARMUP:-1}"
connections="${CONNECTIONS:-64}"
segment_connections="${SEGMENT_CONNECTIONS:-16 64 256 1024}"
big_segment_kb="${BIG_SEGMENT_KB:-2048}"
threads="${THREADS:-2}"
nginx_workers="${NGINX_WORKERS:-auto}"
nginx_only="${NGINX_ONLY:-0}"
skip_build="${SKIP_BUILD:-0}"
apt_wait="${APT_WAIT:-300}"
targets="${TARGETS:-playlist segment segment-2mb}"
perf_dir="${PERF_DIR:-}"
playlist_target="0.95"
segment_target="0.9"
playlist_path="/streams/demo/360p/index.m3u8"
segment_path="/streams/demo/360p/seg_000.ts"
big_segment_path="/streams/demo/360p/seg_2mb.ts"

die() { echo "bench-hls: error: $*" >&2; exit 1; }
note() { echo "bench-hls: $*" >&2; }

for v in duration warmup connections threads big_segment_kb; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "${v^^} must be a whole number, got '${!v}'"
done
((duration > 0)) || die "DURATION must be at least 1"
((big_segment_kb > 0)) || die "BIG_SEGMENT_KB must be at least 1"
((connections >= threads && threads > 0)) || die "need CONNECTIONS >= THREADS >= 1"
read -r -a seg_conns <<<"$segment_connections"
((${#seg_conns[@]} > 0)) || die "SEGMENT_CONNECTIONS is empty"
max_conns="$connections"
for c in "${seg_conns[@]}"; do
  [[ "$c" =~ ^[0-9]+$ ]] && ((c >= threads)) || die "SEGMENT_CONNECTIONS: '$c' is not a whole number >= THREADS"
  ((c > max_conns)) && max_conns="$c"
done
# Rows: "<target> <path> <connections>" (checked before anything is built or started).
rows=()
for t in $targets; do
  case "$t" in
    playlist) rows+=("playlist $playlist_path $connections") ;;
    segment) for c in "${seg_conns[@]}"; do rows+=("segment $segment_path $c"); done ;;
    segment-2mb) for c in "${seg_conns[@]}"; do rows+=("segment-2mb $big_segment_path $c"); done ;;
    *) die "TARGETS: unknown target '$t' (playlist, segment, segment-2mb)" ;;
  esac
done
((${#rows[@]} > 0)) || die "TARGETS is empty"
# wrk, nginx and StreamGate each need a descriptor per connection and some to spare.
if (($(ulimit -n) < max_conns + 256)); then
  ulimit -n $((max_conns + 256)) 2>/dev/null ||
    die "open-file limit $(ulimit -n) is too low for $max_conns connections (ulimit -n)"
fi
[[ -f "$repo$playlist_path" && -f "$repo$segment_path" ]] ||
  die "sample stream missing under $repo/streams/demo/360p (see scripts/make-sample-stream.sh)"

# ---------------------------------------------------------------- tools
find_nginx() { command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true; }

apt_busy() { pgrep -x apt-get >/dev/null || pgrep -x apt >/dev/null || pgrep -x dpkg >/dev/null; }

ensure_tools() {
  if [[ -n "$(find_nginx)" ]] && command -v wrk >/dev/null; then return; fi
  local waited=0
  while apt_busy && ((waited < apt_wait)); do
    ((waited == 0)) && note "apt/dpkg is running; waiting up to ${apt_wait} s for it to finish"
    sleep 5
    waited=$((waited + 5))
  done
  if [[ -n "$(find_nginx)" ]] && command -v wrk >/dev/null; then return; fi
  apt_busy && die "apt/dpkg still running after ${apt_wait} s; retry later or raise APT_WAIT"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "nginx/wrk missing and not root (no sudo): apt-get install nginx-light wrk"
    sudo=(sudo)
  fi
  note "installing nginx-light and wrk with apt-get"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends nginx-light wrk
  [[ -n "$(find_nginx)" ]] && command -v wrk >/dev/null || die "nginx or wrk still missing after apt-get install"
}
ensure_tools
nginx_bin="$(find_nginx)"
if [[ -n "$perf_dir" ]]; then
  command -v perf >/dev/null || die "PERF_DIR needs perf (apt-get install linux-perf)"
  mkdir -p "$perf_dir" && perf_dir="$(cd "$perf_dir" && pwd)"
fi
command -v python3 >/dev/null || die "python3 is needed (free ports, JSON)"
command -v curl >/dev/null || die "curl is needed"

# ---------------------------------------------------------------- build
bin="${STREAMGATE_BIN:-$repo/target/release/streamgate}"
if [[ "$nginx_only" != 1 ]]; then
  if [[ "$skip_build" != 1 && -z "${STREAMGATE_BIN:-}" ]]; then
    note "building: cargo build --release --locked -p streamgate-cli"
    cargo build --release --locked -p streamgate-cli
  fi
  [[ -x "$bin" ]] || die "$bin not found (build it, or run without SKIP_BUILD=1)"
fi

# ---------------------------------------------------------------- temp dir, cleanup
tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench-hls.XXXXXX")"
sg_pid=""
nginx_pid=""
wrk_pid=""
stop_pid() { # pid name seconds
  local pid="$1" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $3 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    note "$2 (pid $pid) did not stop; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$wrk_pid" wrk 3
  stop_pid "$sg_pid" streamgate 12
  stop_pid "$nginx_pid" nginx 5
  if ((rc != 0)); then
    for log in "$tmp/streamgate.log" "$tmp/nginx.log"; do
      [[ -s "$log" ]] || continue
      echo "---- last lines of $(basename "$log") ----" >&2
      tail -n 20 "$log" >&2
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The served tree: a copy of the demo event plus the large segment, cut from the sample
# segments repeated, at a whole number of 188-byte transport-stream packets.
streams="$tmp/streams"
mkdir -p "$streams"
cp -R "$repo/streams/demo" "$streams/"
python3 - "$streams/demo/360p" "$big_segment_kb" <<'PY' || die "could not make the large segment"
import pathlib, sys
d, kib = pathlib.Path(sys.argv[1]), int(sys.argv[2])
sample = b"".join(p.read_bytes() for p in sorted(d.glob("seg_0*.ts")))
size = kib * 1024 // 188 * 188 or 188
(d / "seg_2mb.ts").write_bytes((sample * (size // len(sample) + 1))[:size])
PY

# Three distinct free ports on 127.0.0.1 (bound together so that they differ).
read -r nport pport hport < <(python3 - <<'PY'
import socket
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PY
)
[[ -n "${hport:-}" ]] || die "could not pick free ports with python3"

# wait_for <seconds> <what> <pid> <command...>: run command until it succeeds
wait_for() {
  local secs="$1" what="$2" pid="$3" i
  shift 3
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || die "$what: the process exited (see its log below)"
    sleep 0.1
  done
  die "$what: not ready after ${secs} s"
}

# ---------------------------------------------------------------- nginx
mkdir -p "$tmp/nginx-temp"
cat >"$tmp/nginx.conf" <<EOF
# Reference server for scripts/bench-hls.sh: plain static files, no checks.
daemon off;
master_process on;
worker_processes $nginx_workers;
user $(id -un) $(id -gn);
pid $tmp/nginx.pid;
error_log $tmp/nginx.log warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path $tmp/nginx-temp/body;
  proxy_temp_path $tmp/nginx-temp/proxy;
  fastcgi_temp_path $tmp/nginx-temp/fastcgi;
  uwsgi_temp_path $tmp/nginx-temp/uwsgi;
  scgi_temp_path $tmp/nginx-temp/scgi;
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
  }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nport;
    location /streams/ {
      alias $streams/;
    }
  }
}
EOF
"$nginx_bin" -t -q -e "$tmp/nginx.log" -p "$tmp/" -c "$tmp/nginx.conf" ||
  die "nginx rejected $tmp/nginx.conf (see above)"
"$nginx_bin" -e "$tmp/nginx.log" -p "$tmp/" -c "$tmp/nginx.conf" >>"$tmp/nginx.log" 2>&1 &
nginx_pid=$!
nginx_url="http://127.0.0.1:$nport"
wait_for 15 "nginx on $nginx_url" "$nginx_pid" curl -fsS -o /dev/null "$nginx_url$playlist_path"

# ---------------------------------------------------------------- StreamGate
token=""
sg_url=""
if [[ "$nginx_only" != 1 ]]; then
  mkdir -p "$tmp/data"
  cat >"$tmp/streamgate.toml" <<EOF
[platform]
listen = "127.0.0.1:$pport"
public_url = "http://127.0.0.1:$pport"
database_url = "sqlite://$tmp/data/streamgate.db"

[platform.rate_limits]
validate_per_minute = 100000

[hls]
listen = "127.0.0.1:$hport"
public_url = "http://127.0.0.1:$hport"
stream_root = "$streams"

[[events]]
id = "demo"
title = "Bench"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2099-12-31T23:59:59Z

[[events.codes]]
label = "bench"
count = 5
EOF
  (cd "$tmp" && exec env RUST_LOG=warn "$bin" --config "$tmp/streamgate.toml" up) \
    >"$tmp/streamgate.log" 2>&1 &
  sg_pid=$!
  sg_url="http://127.0.0.1:$hport"
  wait_for 60 "StreamGate HLS server on $sg_url/health" "$sg_pid" curl -fsS -o /dev/null "$sg_url/health"
  wait_for 30 "StreamGate demo codes in its log" "$sg_pid" grep -q 'codes of demo' "$tmp/streamgate.log"
  code="$(sed -n 's/^ *codes of demo  *\([^ ]*\).*/\1/p' "$tmp/streamgate.log" | head -n 1)"
  [[ -n "$code" ]] || die "could not read a demo code from the StreamGate log"
  response="$(curl -sS -m 10 "http://127.0.0.1:$pport/api/tokens/validate" \
    -H 'content-type: application/json' -d "{\"code\":\"$code\"}")" ||
    die "POST /api/tokens/validate failed"
  token="$(python3 -c '
import json, sys
t = json.load(sys.stdin).get("playbackToken")
assert isinstance(t, str) and t
print(t)' <<<"$response" 2>/dev/null)" || die "no playbackToken in the validate response for code $code: $response"
fi
auth_header="Authorization: Bearer ${token:-bench-no-token}"

# Both servers must return the same bytes with 200 before anything is measured.
check_same() { # base_url path
  local status
  status="$(curl -sS -m 10 -o "$tmp/body" -w '%{http_code}' -H "$auth_header" "$1$2")" ||
    die "GET $1$2 failed"
  [[ "$status" == 200 ]] || die "GET $1$2 answered $status, expected 200"
  cmp -s "$tmp/body" "$streams${2#/streams}" || die "GET $1$2 did not return the file's bytes"
}
for p in "$playlist_path" "$segment_path" "$big_segment_path"; do
  check_same "$nginx_url" "$p"
  [[ -z "$sg_url" ]] || check_same "$sg_url" "$p"
done
rm -f "$tmp/body"

rss_kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
mib() { [[ -n "$1" ]] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || echo "n/a"; }
idle_rss=""
[[ -z "$sg_pid" ]] || idle_rss="$(rss_kib "$sg_pid" VmRSS)"

# ---------------------------------------------------------------- load
wrk_cmd="wrk -t$threads -c<connections> -d${duration}s --latency -H 'Authorization: Bearer <token>'"
# bg_wait <outfile> <command...>: run in the background and wait, so that a signal to
# this script is handled at once (bash defers traps until a foreground child ends).
bg_wait() {
  local out="$1" rc=0
  shift
  "$@" >"$out" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || rc=$?
  wrk_pid=""
  return "$rc"
}
# cpu_ticks <pid...>: user + system clock ticks of these processes and their children
# (nginx's workers), all threads included.
clk_tck="$(getconf CLK_TCK 2>/dev/null || echo 100)"
cpu_ticks() {
  local pids=("$@") p
  for p in "$@"; do
    pids+=($(cat "/proc/$p/task/$p/children" 2>/dev/null || true))
  done
  for p in "${pids[@]}"; do
    sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null || true
  done | awk '{ t += $12 + $13 } END { print t + 0 }'
}
# run_wrk <name> <url> <connections> <pid>: sets rps, p99 (ms), cpu (us per request);
# the full wrk output is kept in $tmp/<name>.wrk
run_wrk() {
  local name="$1" url="$2" conns="$3" pid="$4" out="$tmp/$1.wrk" non2xx errors t0 t1 count
  if ((warmup > 0)); then
    bg_wait "$tmp/warmup.wrk" wrk "-t$threads" "-c$conns" "-d${warmup}s" -H "$auth_header" "$url" ||
      { cat "$tmp/warmup.wrk" >&2; die "wrk warm-up against $url failed"; }
  fi
  note "measuring $name: $url, $conns connections (${duration} s)"
  local perf_pid=""
  if [[ -n "$perf_dir" && "$name" == streamgate-* ]]; then
    perf record -q -F "${PERF_FREQ:-999}" --call-graph "${PERF_CALL_GRAPH:-fp}" -p "$pid" -o "$perf_dir/$name.data" >"$tmp/perf.log" 2>&1 &
    perf_pid=$!
  fi
  t0="$(cpu_ticks "$pid")"
  bg_wait "$out" wrk "-t$threads" "-c$conns" "-d${duration}s" --latency -H "$auth_header" "$url" ||
    { cat "$out" >&2; die "wrk against $url failed"; }
  t1="$(cpu_ticks "$pid")"
  if [[ -n "$perf_pid" ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
  fi
  count="$(awk '/requests in/ { print $1 }' "$out")"
  cpu="$(awk -v d="$((t1 - t0))" -v n="${count:-0}" -v hz="$clk_tck" \
    'BEGIN { if (n > 0) printf "%.1f", d / hz * 1e6 / n; else print "n/a" }')"
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
  p99="$(awk '$1 == "99%" {
      v = $2; u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
      f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
      if (f > 0) printf "%.2f", v * f }' "$out")"
  [[ -n "$rps" && -n "$p99" ]] || { cat "$out" >&2; die "could not parse wrk output for $name"; }
  non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
  [[ -z "$non2xx" ]] || { cat "$out" >&2; die "$name: $non2xx responses were not 2xx/3xx; the figures would be meaningless"; }
  errors="$(grep -m1 '^ *Socket errors:' "$out" || true)"
  [[ -z "$errors" ]] || note "$name: wrk reported$errors"
}

declare -A RPS P99 CPU
for row in "${rows[@]}"; do
  read -r target path conns <<<"$row"
  run_wrk "nginx-$target-$conns" "$nginx_url$path" "$conns" "$nginx_pid"
  RPS[nginx-$row]="$rps" P99[nginx-$row]="$p99" CPU[nginx-$row]="$cpu"
  if [[ -n "$sg_url" ]]; then
    run_wrk "streamgate-$target-$conns" "$sg_url$path" "$conns" "$sg_pid"
    RPS[sg-$row]="$rps" P99[sg-$row]="$p99" CPU[sg-$row]="$cpu"
  fi
done
loaded_rss=""
peak_rss=""
if [[ -n "$sg_pid" ]]; then
  kill -0 "$sg_pid" 2>/dev/null || die "StreamGate exited during the load"
  loaded_rss="$(rss_kib "$sg_pid" VmRSS)"
  peak_rss="$(rss_kib "$sg_pid" VmHWM)"
fi

# ---------------------------------------------------------------- report
env_line="TARGETS=\"$targets\" DURATION=$duration WARMUP=$warmup CONNECTIONS=$connections SEGMENT_CONNECTIONS=\"$segment_connections\" BIG_SEGMENT_KB=$big_segment_kb THREADS=$threads NGINX_WORKERS=$nginx_workers"
[[ "$nginx_only" == 1 ]] && env_line+=" NGINX_ONLY=1"
[[ "$skip_build" == 1 ]] && env_line+=" SKIP_BUILD=1"
echo
echo "== StreamGate HLS vs nginx (same files, nginx without checks), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "command: $env_line${STREAMGATE_BIN:+ STREAMGATE_BIN=$STREAMGATE_BIN} scripts/bench-hls.sh${*:+ $*}"
echo "load:    $wrk_cmd <url>   (after ${warmup} s of unmeasured warm-up per url)"
echo "nginx:   $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'), worker_processes $nginx_workers, sendfile on, access_log off"
echo "files:   playlist $(stat -c %s "$streams${playlist_path#/streams}") B, segment $(stat -c %s "$streams${segment_path#/streams}") B, segment-2mb $(stat -c %s "$streams${big_segment_path#/streams}") B"
echo
printf '%-11s | %5s | %11s | %16s | %6s | %6s | %10s | %10s | %12s | %9s\n' target conns "nginx req/s" "streamgate req/s" ratio target "nginx p99" "sg p99" "nginx CPU/req" "sg CPU/req"
printf '%s\n' "------------+-------+-------------+------------------+--------+--------+------------+------------+--------------+-----------"
for row in "${rows[@]}"; do
  read -r target path conns <<<"$row"
  n_rps="${RPS[nginx-$row]}"
  s_rps="${RPS[sg-$row]:-}"
  goal="$segment_target"
  [[ "$target" == playlist ]] && goal="$playlist_target"
  ratio="n/a"
  [[ -n "$s_rps" ]] && ratio="$(awk -v s="$s_rps" -v n="$n_rps" 'BEGIN { printf "%.2f", s / n }')"
  s_p99="n/a"
  [[ -n "${P99[sg-$row]:-}" ]] && s_p99="${P99[sg-$row]} ms"
  printf '%-11s | %5s | %11.0f | %16s | %6s | %6s | %10s | %10s | %10s us | %6s us\n' "$target" "$conns" "$n_rps" \
    "$( [[ -n "$s_rps" ]] && printf '%.0f' "$s_rps" || echo n/a)" "$ratio" ">=$goal" "${P99[nginx-$row]} ms" "$s_p99" \
    "${CPU[nginx-$row]}" "${CPU[sg-$row]:-n/a}"
done
echo
echo "targets: playlist >= $playlist_target, every segment row >= $segment_target of nginx (reported, not enforced)"
echo "CPU/req: user + system CPU time of the server's processes during the run / requests (wrk's own CPU not counted)"
if [[ -n "$sg_pid" ]]; then
  echo "streamgate RSS: idle $(mib "$idle_rss") MiB, loaded $(mib "$loaded_rss") MiB, peak $(mib "$peak_rss") MiB"
else
  echo "streamgate: not measured (NGINX_ONLY=1)"
fi
