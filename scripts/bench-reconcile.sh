#!/usr/bin/env bash
# Measures the reconciler as operators run it (release binary, a fresh database each
# time), on SQLite and on PostgreSQL:
#   1. apply of EVENTS events x CODES codes (default 100 x 1,000 = 100,000 codes),
#   2. plan with nothing to do at that size,
# and, as a reference measured in the same run on the same database server, a bare
# bulk insert of the same number of random 12-character rows (the floor any apply has
# to pay). Prints seconds and the ratio to the reference. Not a test: no thresholds.
#
#   scripts/bench-reconcile.sh [EVENTS] [CODES]
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-100}"
codes="${2:-1000}"
pg_admin="${STREAMGATE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

cargo build --release --locked --quiet --bin streamgate
bin="$PWD/target/release/streamgate"
work="$(mktemp -d)"
pg_db="sg_bench_$$"
cleanup() {
  rm -rf "$work"
  psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
}
trap cleanup EXIT

{
  printf '[hls]\nstream_root = "streams"\n'
  for i in $(seq 1 "$events"); do
    printf '\n[[events]]\nid = "event-%d"\ntitle = "Event %d"\n' "$i" "$i"
    printf 'starts_at = 2030-01-01T00:00:00Z\nends_at = 2030-01-02T00:00:00Z\n'
    printf '\n[[events.codes]]\nlabel = "tickets"\ncount = %d\n' "$codes"
  done
} > "$work/streamgate.toml"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

run() { # backend url
  local name="$1" url="$2" t0 t1 t2 t3
  t0=$(now)
  DATABASE_URL="$url" "$bin" --config "$work/streamgate.toml" apply >/dev/null
  t1=$(now)
  DATABASE_URL="$url" "$bin" --config "$work/streamgate.toml" plan >/dev/null
  t2=$(now)
  apply_s=$(secs "$t0" "$t1")
  plan_s=$(secs "$t1" "$t2")
  echo "$name: apply $events x $codes codes: ${apply_s} s; plan with nothing to do: ${plan_s} s"
}

total=$((events * codes))
echo "== $events events x $codes codes = $total codes"

run sqlite "sqlite://$work/bench.db"
t0=$(now)
python3 - "$work/ref.db" "$total" <<'PY'
import secrets, sqlite3, string, sys
alphabet = string.ascii_letters + string.digits
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE ref (code TEXT PRIMARY KEY, n INTEGER)")
with db:
    db.executemany("INSERT INTO ref VALUES (?, ?)",
        ((''.join(secrets.choice(alphabet) for _ in range(12)), i) for i in range(int(sys.argv[2]))))
PY
t1=$(now)
ref_sqlite=$(secs "$t0" "$t1")
echo "sqlite reference (python sqlite3, one transaction of $total keyed rows): ${ref_sqlite} s; apply/reference = $(ratio "$apply_s" "$ref_sqlite")"

psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
pg_url="${pg_admin%/*}/$pg_db"
run postgres "$pg_url"
t0=$(now)
psql -q "$pg_url" >/dev/null <<SQL
CREATE TABLE ref (code TEXT PRIMARY KEY, n INTEGER);
INSERT INTO ref SELECT substr(md5(random()::text), 1, 12), g FROM generate_series(1, $total) g;
SQL
t1=$(now)
ref_pg=$(secs "$t0" "$t1")
echo "postgres reference (INSERT ... SELECT generate_series of $total keyed rows): ${ref_pg} s; apply/reference = $(ratio "$apply_s" "$ref_pg")"
