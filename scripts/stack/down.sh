#!/usr/bin/env bash
# Stops what up.sh started (the registry and dockerd, by the pids it recorded). Packages, images and
# the registry's storage stay. With --purge, also removes the state dir (registry data, logs, apt cache).
# With --hosts, stops only dockerd b and c (up.sh --hosts).
set -euo pipefail
STACK_HERE="$(cd "$(dirname "$0")" && pwd)"
. "$STACK_HERE/lib.sh"

# stop NAME PIDFILE COMM: TERM, wait up to 30 s, then KILL.
stop() {
  local name="$1" pidfile="$2" comm="$3" pid
  if ! pid_alive "$pidfile" "$comm"; then
    say "$name" "not running (no live pid in $pidfile)"
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  if ! wait_until 30 bash -c "! kill -0 $pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    say "$name" "killed (pid $pid did not stop within 30s)"
  else
    say "$name" "stopped (pid $pid)"
  fi
  rm -f "$pidfile"
}

for host in b c; do stop "dockerd-$host" "$STACK_RUN/dockerd-$host.pid" dockerd; done
# --hosts: only the extra build hosts of `up.sh --hosts` (the default daemon and the registry keep running)
[ "${1:-}" = "--hosts" ] && exit 0
stop registry "$STACK_RUN/registry.pid" docker-registry
stop dockerd "$STACK_RUN/dockerd.pid" dockerd
if [ "${1:-}" = "--purge" ]; then
  rm -rf "$STACK_STATE"
  say state "removed $STACK_STATE"
fi
