#!/usr/bin/env bash
# API fuzzing of both services from their descriptions, with schemathesis (not ours),
# against a running installation:
#
#   scripts/api-fuzz.sh path/to/streamgate [--max-examples N] [--time-budget SECONDS]
#                       [--seed N] [--workers N] [--checks LIST] [--report-dir DIR]
#
# 1. a venv under ${TMPDIR:-/tmp}/sg-apifuzz-venv (reused) with scripts/api-fuzz/requirements.txt;
# 2. starts `streamgate up --no-watch` (platform + HLS server, topology A) in a scratch
#    directory (copies of streamgate.toml, streams/ and schemas/, a fresh SQLite database)
#    on two free loopback ports, with random secrets, the hash of a random admin password
#    and rate limits high enough not to dominate the answers;
# 3. makes an admin API token, exports the demo codes, redeems one (a playback token) and
#    makes two API-managed events with codes (scripts/api-fuzz/prepare.py), then writes
#    the dictionaries that mix these real ids, codes and stream files into generation;
# 4. runs `st run` on openapi.yaml against the platform, then on openapi-hls.yaml against
#    the HLS server, with the checks not_a_server_error, status_code_conformance,
#    content_type_conformance, response_headers_conformance, response_schema_conformance,
#    every phase (examples, coverage, fuzzing, stateful), a fixed seed (configuration:
#    scripts/api-fuzz/schemathesis.toml). Credentials, per security scheme, from
#    scripts/api-fuzz/hooks.py: the admin token for admin operations, the internal key for
#    internal ones, a live playback JWT for the viewer and HLS operations (re-redeemed
#    whenever the fuzzer has revoked or ended the session it was watching with);
# 5. prints the cases per operation, how many carried a credential and got past 401, and
#    the totals (scripts/api-fuzz/summarize.py), then the failures grouped by operation,
#    check and kind (scripts/api-fuzz/failures.py); exits non-zero when schemathesis found
#    anything (each failure is printed in full with a curl command reproducing it;
#    credentials show as [Filtered]: put the admin token, internal key or a playback
#    token back in). Exit status: 0 nothing found, 1 findings, 2 the run itself failed.
#
# Bounded: --max-examples (default 200 cases per operation in the fuzzing phase; the
# coverage phase adds a fixed ~800 cases, the stateful phase a few hundred) keeps the
# whole run near 2.5 minutes on 2 cores with a debug build (about 7,500 requests).
# --time-budget S also caps the fuzzing at S seconds (3/4 to the platform, 1/4 to the HLS
# server); note that with a budget schemathesis keeps fuzzing until it is spent. The
# seed is fixed (--seed): the generated inputs repeat from run to run, though the counts
# can move a little as the server's answers (fresh ids, timings) steer the stateful phase.
# One worker by default: schemathesis runs workers as threads, and CPython 3.11.7 (this
# machine's) can fail in them with "AST constructor recursion depth mismatch" (a CPython
# bug, not the server's); two workers gained little on 2 cores anyway.
# The long-poll `wait` of /api/revocations is capped at 200 ms by the hooks (up to 30 s by
# design; it would burn the budget). Rate limits are raised, so 429 is not exercised.
# --checks LIST replaces the five checks (e.g. `all`, for a look at what else schemathesis
# has to say). SG_FUZZ_DEBUG=1 records each request in the stats file; --report-dir DIR
# keeps JUnit and NDJSON reports, the stats and the server's log.
# The server is stopped (SIGTERM) and the scratch directory removed however this ends.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

die() { printf 'api-fuzz: FAIL: %s\n' "$*" >&2; exit 2; }
say() { printf 'api-fuzz: %s\n' "$*"; }
usage="usage: $0 path/to/streamgate [--max-examples N] [--time-budget SECONDS] [--seed N] [--workers N] [--checks LIST] [--report-dir DIR]"

[ $# -ge 1 ] || die "$usage"
[ -x "$1" ] || die "$1 is not an executable streamgate binary"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
max_examples=200
time_budget=""
seed=20261126
workers=1
report_dir=""
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) [ $# -ge 2 ] || die "$usage"; max_examples=$2; shift 2 ;;
    --time-budget) [ $# -ge 2 ] || die "$usage"; time_budget=$2; shift 2 ;;
    --seed) [ $# -ge 2 ] || die "$usage"; seed=$2; shift 2 ;;
    --workers) [ $# -ge 2 ] || die "$usage"; workers=$2; shift 2 ;;
    --checks) [ $# -ge 2 ] || die "$usage"; checks=$2; shift 2 ;;
    --report-dir) [ $# -ge 2 ] || die "$usage"; report_dir=$2; shift 2 ;;
    *) die "unknown argument $1; $usage" ;;
  esac
done
for number in "$max_examples" "$seed" "$workers" ${time_budget:+"$time_budget"}; do
  if ! [[ "$number" =~ ^[0-9]+$ ]] || [ "$number" -eq 0 ]; then
    die "not a positive number: $number; $usage"
  fi
done
if [ -n "$report_dir" ]; then
  mkdir -p "$report_dir" && report_dir=$(cd "$report_dir" && pwd)
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
for spec in openapi.yaml openapi-hls.yaml; do
  [ -f "$root/$spec" ] || die "no API description at $root/$spec"
done
tmp=${TMPDIR:-/tmp}
venv=$tmp/sg-apifuzz-venv
started=$(date +%s)

work=$(mktemp -d "$tmp/sg-apifuzz.XXXXXX")
server_pid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local status=$?
  stop_server "$server_pid" api-fuzz
  # Exit 1 is a finding (reported above); anything else is a broken run: show the log.
  if [ "$status" -ne 0 ] && [ "$status" -ne 1 ] && [ -s "$work/server.log" ]; then
    echo "api-fuzz: last lines of the server's log:" >&2
    tail -n 20 "$work/server.log" >&2
  fi
  if [ -n "$report_dir" ] && [ -d "$work" ]; then
    cp "$work/server.log" "$work/stats.jsonl" "$work"/*.ndjson "$report_dir/" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The venv (reused when present and working).
if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  say "making the venv $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "cannot make a venv at $venv (python3 -m venv)"
fi
py=$venv/bin/python
"$py" -m pip install --quiet --disable-pip-version-check -r "$here/api-fuzz/requirements.txt" \
  || die "pip could not install $here/api-fuzz/requirements.txt"
st=$venv/bin/st
say "$("$st" --version 2>&1 | head -n 1)"

# 2. The installation, in a scratch directory with its own database.
run=$work/run
mkdir -p "$run"
cp "$root/streamgate.toml" "$run/"
cp -R "$root/streams" "$root/schemas" "$run/"
cd "$run"
read -r platform_port hls_port < <(free_ports 2)
signing=$("$bin" gen-secret) || die "streamgate gen-secret failed"
internal=$("$bin" gen-secret) || die "streamgate gen-secret failed"
if [ "${#signing}" -lt 32 ] || [ "${#internal}" -lt 32 ]; then
  die "streamgate gen-secret printed a secret shorter than 32 characters"
fi
admin_hash=$("$bin" gen-secret | "$bin" hash-password) || die "streamgate hash-password failed"
platform_url=http://127.0.0.1:$platform_port
hls_url=http://127.0.0.1:$hls_port
export PLAYBACK_SIGNING_SECRET=$signing INTERNAL_API_KEY=$internal ADMIN_PASSWORD_HASH=$admin_hash
export STREAMGATE_PLATFORM__LISTEN=127.0.0.1:$platform_port STREAMGATE_PLATFORM__PUBLIC_URL=$platform_url
export STREAMGATE_HLS__LISTEN=127.0.0.1:$hls_port STREAMGATE_HLS__PUBLIC_URL=$hls_url/
export STREAMGATE_PLATFORM__RATE_LIMITS__VALIDATE_PER_MINUTE=100000
export STREAMGATE_PLATFORM__RATE_LIMITS__REFRESH_PER_HOUR=100000
export STREAMGATE_PLATFORM__RATE_LIMITS__ADMIN_LOGIN_PER_MINUTE=100000
token=$("$bin" admin-token create --name fuzz </dev/null) || die "streamgate admin-token create failed"
# It prints the token alone on stdout (the hint goes to stderr, on a terminal only).
token=$(printf '%s\n' "$token" | sed '/^[[:space:]]*$/d' | tail -n 1)
[[ "$token" =~ ^[A-Za-z0-9._~+/=-]{16,}$ ]] || die "unexpected output from streamgate admin-token create: $token"
"$bin" up --no-watch </dev/null >"$work/server.log" 2>&1 &
server_pid=$!
say "streamgate up (pid $server_pid): platform $platform_url, HLS server $hls_url"
healthy=""
for _ in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || die "the server exited before answering /health"
  if "$py" -c 'import sys, urllib.request
for url in sys.argv[1:]: urllib.request.urlopen(url + "/health", timeout=2)' "$platform_url" "$hls_url" 2>/dev/null; then
    healthy=1
    break
  fi
  sleep 0.1
done
[ -n "$healthy" ] || die "the platform and the HLS server did not both answer GET /health within 30 s"
say "healthy after $(($(date +%s) - started)) s"

# 3. Fixtures: the demo codes, a playback token, an API-managed event, the dictionaries.
"$bin" codes export --event demo >"$work/codes.csv" </dev/null || die "streamgate codes export --event demo failed"
stdir=$work/st
mkdir -p "$stdir"
cp "$here/api-fuzz/schemathesis.toml" "$stdir/"
export SG_PLATFORM_URL=$platform_url SG_HLS_URL=$hls_url SG_ADMIN_TOKEN=$token SG_INTERNAL_KEY=$internal
"$py" "$here/api-fuzz/prepare.py" "$stdir" "$work/codes.csv" "$run/streams/demo" || die "could not prepare the fixtures"
export SG_FUZZ_STATE=$stdir/state.json SG_FUZZ_STATS=$work/stats.jsonl
export SCHEMATHESIS_HOOKS=$here/api-fuzz/hooks.py
: >"$SG_FUZZ_STATS"

# 4. schemathesis, on each description.
fuzz() { # name spec base-url max-time
  local name=$1 spec=$2 url=$3 max_time=$4
  local args=(--config-file "$stdir/schemathesis.toml" run "$spec" --url "$url"
    --checks "$checks" --max-examples "$max_examples" --seed "$seed" --workers "$workers"
    --continue-on-failure --request-timeout 20)
  [ -n "$max_time" ] && args+=(--max-time "$max_time")
  if [ -n "$report_dir" ]; then
    args+=(--report "junit,ndjson" --report-junit-path "$report_dir/$name.junit.xml")
  else
    args+=(--report ndjson)
  fi
  args+=(--report-ndjson-path "$work/$name.ndjson")
  say "st ${args[*]}"
  local begun status
  begun=$(date +%s)
  set +e
  (cd "$stdir" && "$st" "${args[@]}")
  status=$?
  set -e
  say "$name: schemathesis exited $status after $(($(date +%s) - begun)) s"
  return "$status"
}
platform_time="" hls_time=""
if [ -n "$time_budget" ]; then
  platform_time=$((time_budget * 3 / 4)) hls_time=$((time_budget - time_budget * 3 / 4))
  [ "$platform_time" -ge 1 ] || platform_time=1
  [ "$hls_time" -ge 1 ] || hls_time=1
fi
status=0
fuzz platform "$root/openapi.yaml" "$platform_url" "$platform_time" || status=1
fuzz hls "$root/openapi-hls.yaml" "$hls_url" "$hls_time" || status=1

# 5. Counts, the failures grouped (schemathesis printed each in full above), and anything
# the server logged as a panic (a 5xx is caught above; a panic in a background task
# would not be).
"$py" "$here/api-fuzz/summarize.py" "$SG_FUZZ_STATS"
reports=()
for name in platform hls; do
  [ -s "$work/$name.ndjson" ] && reports+=("$work/$name.ndjson")
done
if [ "$status" -ne 0 ] && [ ${#reports[@]} -gt 0 ]; then
  echo
  "$py" "$here/api-fuzz/failures.py" "${reports[@]}" || true
fi
if grep -n 'panicked' "$work/server.log" >&2; then
  echo "api-fuzz: the server panicked (lines above)" >&2
  status=1
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "api-fuzz: the server is no longer running; the end of its log:" >&2
  tail -n 40 "$work/server.log" >&2
  status=1
fi
elapsed=$(($(date +%s) - started))
if [ "$status" -eq 0 ]; then
  say "PASS in $elapsed s (seed $seed, --max-examples $max_examples)"
else
  echo "api-fuzz: FAIL after $elapsed s (seed $seed, --max-examples $max_examples): see the failures above" >&2
fi
exit "$status"
