#!/usr/bin/env bash
# The network samples work end to end: each server, in both modes on both backends, echoes or
# answers what the client sends and exits 0 on SIGTERM.
#
#   tests/samples/servers.sh SAMPLES_DIR
set -euo pipefail
dir=${1:?usage: servers.sh SAMPLES_DIR}
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start() {  # start BINARY ARGS... : runs a server, sets server_pid and port
  "$@" --port 0 >"$work/out" 2>"$work/err" &
  server_pid=$!
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$work/out"; then
      port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$work/out")
      return
    fi
    sleep 0.05
  done
  echo "no 'listening on' from $*" >&2
  cat "$work/err" >&2
  exit 1
}

stop() {  # SIGTERM by PID; the server must exit 0 within 5 s
  kill -TERM "$server_pid"
  for _ in $(seq 100); do
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=""
  [[ $rc -eq 0 ]] || { echo "server exited $rc" >&2; cat "$work/err" >&2; exit 1; }
}

for backend in uring epoll; do
  for mode in task greenlet; do
    start "$dir/echo_server" --mode "$mode" --backend "$backend"
    "$dir/echo_client" --port "$port" --connections 50 --messages 50 --size 1000
    "$dir/echo_client" --port "$port" --connections 2 --messages 3 --size 1000000
    stop

    start "$dir/http_hello" --mode "$mode" --backend "$backend"
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
    reply=$(cat <&3)
    exec 3<&-
    count=$(grep -c 'Hello, World!' <<<"$reply" || true)
    [[ $count -eq 2 ]] || { echo "http_hello ($backend, $mode) answered: $reply" >&2; exit 1; }
    stop
    echo "ok: $backend $mode"
  done
done
