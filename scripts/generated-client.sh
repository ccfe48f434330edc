#!/usr/bin/env bash
# Proves the platform's API description (openapi.yaml) with a client made by a
# generator we did not write (openapi-python-client), against a running platform.
#
#   scripts/generated-client.sh path/to/streamgate
#
# 1. a venv under ${TMPDIR:-/tmp}/sg-genclient-venv (reused), with the pinned generator;
# 2. generates a Python client from openapi.yaml; ANY generator warning (an operation or
#    schema it could not generate) is a failure: the description must be fully usable;
# 3. installs the generated package into the venv;
# 4. starts `streamgate platform` in a scratch directory (copies of streamgate.toml,
#    streams/ and schemas/, a fresh SQLite database) on a free loopback port, with a
#    fresh admin API token and random secrets (signing secret, internal key, and the
#    hash of a random admin password, which the platform requires to start);
# 5. runs scripts/generated-client/scenario.py against it and exits with its status.
# The platform is stopped (SIGTERM) and the scratch directory removed however this ends.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

die() { printf 'generated-client: FAIL: %s\n' "$*" >&2; exit 1; }
say() { printf 'generated-client: %s\n' "$*"; }

[ $# -eq 1 ] || die "usage: $0 path/to/streamgate"
[ -x "$1" ] || die "$1 is not an executable streamgate binary"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
spec=$root/openapi.yaml
[ -f "$spec" ] || die "no API description at $spec"
tmp=${TMPDIR:-/tmp}
venv=$tmp/sg-genclient-venv
started=$(date +%s)

work=$(mktemp -d "$tmp/sg-genclient.XXXXXX")
platform_pid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local status=$?
  stop_server "$platform_pid" generated-client
  if [ "$status" -ne 0 ] && [ -s "$work/platform.log" ]; then
    echo "generated-client: last lines of the platform's log:" >&2
    tail -n 40 "$work/platform.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The venv (reused when present and working).
if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "making the venv $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "cannot make a venv at $venv (python3 -m venv)"
fi
py=$venv/bin/python
export PATH="$venv/bin:$PATH" # the generator runs ruff (one of its dependencies) from PATH
"$py" -m pip install --quiet --disable-pip-version-check -r "$here/generated-client/requirements.txt" \
  || die "pip could not install $here/generated-client/requirements.txt"
say "generator: $("$venv/bin/openapi-python-client" --version 2>&1)"

# 2. Generate. The generator writes "Generating <dir>" and nothing else when all went
# well; warnings (skipped endpoints, unsupported content types, bad schemas) go to its
# output too, and --fail-on-warning makes it exit non-zero for them. Both are checked:
# any other line is printed and fails the run.
out=$work/client
set +e
"$venv/bin/openapi-python-client" generate --path "$spec" --output-path "$out" \
  --overwrite --meta setup --fail-on-warning >"$work/generate.log" 2>&1
gen_status=$?
set -e
unexpected=$(grep -v -e '^Generating ' -e '^[[:space:]]*$' "$work/generate.log" || true)
if [ "$gen_status" -ne 0 ] || [ -n "$unexpected" ]; then
  echo "generated-client: the generator reported problems with $spec (exit $gen_status):" >&2
  cat "$work/generate.log" >&2
  die "openapi.yaml is not fully generatable (see the generator's output above)"
fi
package=$(cd "$out" && for d in */; do [ -f "$d/client.py" ] && [ -d "$d/api" ] && echo "${d%/}"; done)
if [ -z "$package" ] || [ "$(echo "$package" | wc -l)" -ne 1 ]; then
  die "cannot find the generated package in $out"
fi
say "generated package $package ($(find "$out/$package/api" -name '*.py' ! -name '__init__.py' | wc -l) operations, $(find "$out/$package/models" -name '*.py' ! -name '__init__.py' | wc -l) models), no warnings"

# 3. Install it (no network needed: its dependencies, httpx and attrs, are pinned above).
"$py" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
  --force-reinstall "$out" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; die "pip could not install the generated client"; }

# 4. The platform, in a scratch directory with its own database.
run=$work/run
mkdir -p "$run"
cp "$root/streamgate.toml" "$run/"
cp -R "$root/streams" "$root/schemas" "$run/"
cd "$run"
token=$("$bin" admin-token create --name ci </dev/null) || die "streamgate admin-token create failed"
# It prints the token alone on stdout (the hint goes to stderr, on a terminal only).
token=$(printf '%s\n' "$token" | sed '/^[[:space:]]*$/d' | tail -n 1)
[[ "$token" =~ ^[A-Za-z0-9._~+/=-]{16,}$ ]] || die "unexpected output from streamgate admin-token create: $token"
signing=$("$bin" gen-secret) || die "streamgate gen-secret failed"
internal=$("$bin" gen-secret) || die "streamgate gen-secret failed"
if [ "${#signing}" -lt 32 ] || [ "${#internal}" -lt 32 ]; then
  die "streamgate gen-secret printed a secret shorter than 32 characters"
fi
# The platform will not start without an admin password hash (required for its role,
# like the two secrets above); the scenario never logs in with it.
admin_hash=$("$bin" gen-secret | "$bin" hash-password) || die "streamgate hash-password failed"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
STREAMGATE_PLATFORM__LISTEN=127.0.0.1:$port \
  STREAMGATE_PLATFORM__PUBLIC_URL=$base \
  PLAYBACK_SIGNING_SECRET=$signing INTERNAL_API_KEY=$internal ADMIN_PASSWORD_HASH=$admin_hash \
  "$bin" platform --no-watch </dev/null >"$work/platform.log" 2>&1 &
platform_pid=$!
say "platform started (pid $platform_pid) on $base"
healthy=""
for _ in $(seq 1 300); do
  kill -0 "$platform_pid" 2>/dev/null || die "the platform exited before answering /health"
  if "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/health", timeout=2)' "$base" 2>/dev/null; then
    healthy=1
    break
  fi
  sleep 0.1
done
[ -n "$healthy" ] || die "the platform did not answer GET /health within 30 s"
say "platform healthy after $(($(date +%s) - started)) s"

# 5. The scenario.
set +e
SG_BASE_URL=$base SG_ADMIN_TOKEN=$token "$py" "$here/generated-client/scenario.py"
status=$?
set -e
if [ "$status" -eq 0 ]; then
  say "PASS in $(($(date +%s) - started)) s"
else
  echo "generated-client: FAIL: scenario.py exited $status after $(($(date +%s) - started)) s" >&2
fi
exit "$status"
