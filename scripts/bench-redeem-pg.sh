#!/bin/bash
# Redemptions/s on PostgreSQL against N separate platform processes sharing one fresh
# database; whole-machine CPU (/proc/stat), server and PostgreSQL CPU-s, and the
# backends' wait events sampled from pg_stat_activity. Reports, asserts nothing.
# usage: scripts/bench-redeem-pg.sh CONNS INSTANCES [SECONDS] [CODES]
# STREAMGATE_BIN_PATH picks the binary (default target/debug/streamgate).
# Needs wrk and psql; the database sg_bench_redeem is dropped and made again. Every wrk
# thread of every instance redeems its own slice of the codes (scripts/lib/redeem-wrk.lua).
set -euo pipefail
PIDS=""; SP=""
trap 'kill $PIDS $SP 2>/dev/null || true' EXIT
[ $# -ge 2 ] || { echo "usage: $0 CONNS INSTANCES [SECONDS] [CODES]" >&2; exit 2; }
C=$1; I=$2; D=${3:-5}; N=${4:-15000}
BIN=${STREAMGATE_BIN_PATH:-$(cd "$(dirname "$0")/.." && pwd)/target/debug/streamgate}
DB=sg_bench_redeem; LUA=$(cd "$(dirname "$0")" && pwd)/lib/redeem-wrk.lua; W=${TMPDIR:-/tmp}/sg-bench-redeem; mkdir -p $W; cd $W
psql -h 127.0.0.1 -U postgres -qc "drop database if exists $DB" -c "create database $DB" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB PLAYBACK_SIGNING_SECRET=bench-signing-secret-0123456789abcdef \
  INTERNAL_API_KEY=bench-internal-key-0123456 ADMIN_PASSWORD_HASH='$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y'
for k in $(seq 1 $I); do
  port=$((18700+k))
  printf '[platform]\nlisten = "127.0.0.1:%s"\n[platform.rate_limits]\nvalidate_per_minute = 100000000\n[hls]\nstream_root = "streams"\npublic_url = "http://127.0.0.1:9"\n[[events]]\nid = "bench"\ntitle = "Bench"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2099-01-01T00:00:00Z\n[[events.codes]]\nlabel = "t"\ncount = %s\n' $port $N > p$k.toml
  $BIN -c p$k.toml platform > plat$k.log 2>&1 & PIDS="$PIDS $!"
  for t in $(seq 1 300); do curl -fs -o /dev/null http://127.0.0.1:$port/api/health && break; sleep 0.2; done
done
psql -h 127.0.0.1 -U postgres -d $DB -Atc "select code from access_codes order by random()" > codes.txt
wc -l < codes.txt | sed 's/^/codes: /'
WS=""; 
# warm-up: malformed codes (400, no db)
for k in $(seq 1 $I); do wrk -t1 -c4 -d1s -s /dev/null http://127.0.0.1:$((18700+k))/api/health >/dev/null 2>&1 || true; done
pticks() { local s=0; for p in $PIDS; do s=$((s + $(awk '{sub(/.*\) /,""); print $12+$13}' /proc/$p/stat))); done; echo $s; }
pgticks() { local s=0; for p in $(pgrep -u postgres); do v=$(awk '{sub(/.*\) /,""); print $12+$13}' /proc/$p/stat 2>/dev/null || echo 0); s=$((s+v)); done; echo $s; }
read -r _ u n s i w x y z _ < /proc/stat; b0=$((u+n+s+x+y+z)); t0=$((u+n+s+i+w+x+y+z)); p0=$(pticks); g0=$(pgticks)
( while true; do psql -h 127.0.0.1 -U postgres -Atc "select coalesce(state,'')||':'||coalesce(wait_event_type,'CPU')||'/'||coalesce(wait_event,'-') from pg_stat_activity where datname='$DB' and pid<>pg_backend_pid()" 2>/dev/null; sleep 0.02; done > waits.txt ) & SP=$!
s0=$(psql -h 127.0.0.1 -U postgres -d $DB -Atc "select count(*) from sessions")
for k in $(seq 1 $I); do
  wrk -t2 -c$((C/I)) -d${D}s -s $LUA http://127.0.0.1:$((18700+k)) -- $k $I $W/codes.txt > wrk$k.txt 2>&1 &
  WS="$WS $!"
done
wait $WS
read -r _ u n s i w x y z _ < /proc/stat; b1=$((u+n+s+x+y+z)); t1=$((u+n+s+i+w+x+y+z)); p1=$(pticks); g1=$(pgticks)
kill $SP; SP=""
s1=$(psql -h 127.0.0.1 -U postgres -d $DB -Atc "select count(*) from sessions")
ok=$((s1-s0))
echo "conns=$C instances=$I: $ok redemptions in ${D}s = $((ok/D))/s; server CPU $(echo "scale=2;($p1-$p0)/100"|bc) s; postgres CPU (live backends) $(echo "scale=2;($g1-$g0)/100"|bc) s; machine CPU $(( 100*(b1-b0)/(t1-t0) ))% of 2 cores"
grep -h "Requests/sec\|Non-2xx\|Socket" wrk*.txt | sed 's/^/  wrk: /'
echo "  pg backend states:"; sort waits.txt | uniq -c | sort -rn | head -8 | sed 's/^/   /'
kill $PIDS; wait $PIDS 2>/dev/null || true; PIDS=""
