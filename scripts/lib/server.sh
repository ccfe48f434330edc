# shellcheck shell=bash
# Shared by the scripts that start `streamgate` for a run (generated-client.sh,
# api-fuzz.sh, soak.sh): stopping it as an operator would, and finding free ports.
# Source it; it defines functions only.

# stop_server PID NAME: SIGTERM, up to 10 s for the drain, then SIGKILL (saying so).
stop_server() {
  local pid=$1 name=$2
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name: the server ignored SIGTERM for 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# free_ports N: N distinct loopback ports nothing listens on now (all held at once
# while they are picked, so they differ).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))
PY
}
