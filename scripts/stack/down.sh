#!/usr/bin/env bash
# Stops what up.sh started (the registries and dockerd, by the pids it recorded).
#   down.sh             stop the daemons; packages, images and the registry's storage stay.
#   down.sh --purge     also remove what the stack and the tests made: in dockerd (while it still runs, and only a
#                       dockerd this stack started): the stack's images (stapel2docker/*), images of the local
#                       registry and of introspection, stapel2docker-* volumes and the build cache; then the state
#                       dir (registry data, logs, apt cache, ansible rootfs) and the temp folders tests leave in
#                       /tmp (s2d-*, stapel2docker-*). Debian packages stay (docs/stack.md says how to remove them).
#   down.sh --hosts     stop only dockerd b and c and the BuildKit proxy of s2d-remote (up.sh --hosts); the default daemon and the registry keep running.
#   --dry-run           print what would be stopped and removed; change nothing.
# `npm run stack:down` runs `down.sh --purge`.
set -euo pipefail
STACK_HERE="$(cd "$(dirname "$0")" && pwd)"
. "$STACK_HERE/lib.sh"

PURGE=0 DRY=0 HOSTS=0
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    --dry-run) DRY=1 ;;
    --hosts) HOSTS=1 ;;
    *) die "unknown option $a (usage: down.sh [--purge] [--dry-run] | down.sh --hosts)" ;;
  esac
done

# act DESCRIPTION CMD...: run CMD, or only say it with --dry-run.
act() {
  local what="$1"; shift
  if [ "$DRY" = 1 ]; then say would "$what"; else "$@"; fi
}

# stop NAME PIDFILE COMM: TERM, wait up to 30 s, then KILL.
stop() {
  local name="$1" pidfile="$2" comm="$3" pid
  if ! pid_alive "$pidfile" "$comm"; then
    say "$name" "not running (no live pid in $pidfile)"
    [ "$DRY" = 1 ] || rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  if [ "$DRY" = 1 ]; then say would "stop $name (pid $pid)"; return 0; fi
  kill -TERM "$pid"
  if ! wait_until 30 bash -c "! kill -0 $pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    say "$name" "killed (pid $pid did not stop within 30s)"
  else
    say "$name" "stopped (pid $pid)"
  fi
  rm -f "$pidfile"
}

# purge_engine: what the stack and the tests made inside the dockerd this stack started.
purge_engine() {
  if ! pid_alive "$STACK_RUN/dockerd.pid" dockerd || ! docker_answers; then
    say images "left as they are (no running dockerd started by this stack)"
    return 0
  fi
  local images volumes n
  images="$(docker image ls --format '{{.Repository}}:{{.Tag}}' \
    | grep -E '^(stapel2docker/|stapel2docker-introspect|127\.0\.0\.1:500[01]/)' | grep -v ':<none>$' || true)"
  n="$(printf '%s' "$images" | grep -c . || true)"
  if [ "$n" -gt 0 ]; then
    act "remove $n image(s): $(echo $images | cut -c1-300)" bash -c 'xargs -r docker image rm -f >/dev/null' <<<"$images"
    [ "$DRY" = 1 ] || say images "removed $n image(s) (stapel2docker/*, 127.0.0.1:5000/*, introspection)"
  else
    say images "none of the stack's left"
  fi
  volumes="$(docker volume ls -q | grep -E '^stapel2docker-' || true)"
  if [ -n "$volumes" ]; then
    act "remove volumes: $(echo $volumes)" bash -c 'xargs -r docker volume rm -f >/dev/null' <<<"$volumes"
  fi
  act "prune the build cache (docker builder prune -af)" bash -c 'docker builder prune -af >/dev/null'
  [ "$DRY" = 1 ] || say cache "build cache pruned"
}

if [ "$PURGE" = 1 ] && [ "$HOSTS" = 0 ]; then purge_engine; fi
stop buildkit-proxy "$STACK_RUN/buildkit-proxy.pid" node
for host in b c; do stop "dockerd-$host" "$STACK_RUN/dockerd-$host.pid" dockerd; done
# --hosts: only the extra build hosts of `up.sh --hosts` (the default daemon and the registry keep running)
[ "$HOSTS" = 1 ] && exit 0
stop registry "$STACK_RUN/registry.pid" docker-registry
stop registry2 "$STACK_RUN/registry2.pid" docker-registry
stop dockerd "$STACK_RUN/dockerd.pid" dockerd
if [ "$PURGE" = 1 ]; then
  # the buildx builder of up.sh --hosts (remote-builder.sh), when it is this state dir's
  endpoint="$(docker buildx inspect s2d-remote 2>/dev/null | awk '$1=="Endpoint:"{print $2; exit}' || true)"
  if [ "$endpoint" = "unix://$STACK_RUN/buildkit-c.sock" ]; then
    act "remove the buildx builder s2d-remote" bash -c 'docker buildx rm s2d-remote >/dev/null 2>&1 || true'
    [ "$DRY" = 1 ] || say builder "removed s2d-remote"
  fi
  if [ -d "$STACK_STATE" ]; then
    size="$(du -sh "$STACK_STATE" 2>/dev/null | cut -f1)"
    act "remove $STACK_STATE ($size)" rm -rf "$STACK_STATE"
    [ "$DRY" = 1 ] || say state "removed $STACK_STATE ($size)"
  fi
  tmp="${TMPDIR:-/tmp}"
  leftovers="$(find "$tmp" -maxdepth 1 -mindepth 1 \( -name 's2d-*' -o -name 'stapel2docker-*' \) 2>/dev/null || true)"
  if [ -n "$leftovers" ]; then
    n="$(printf '%s\n' "$leftovers" | grep -c .)"
    act "remove $n temp folder(s) in $tmp (s2d-*, stapel2docker-*)" bash -c 'xargs -r rm -rf' <<<"$leftovers"
    [ "$DRY" = 1 ] || say temp "removed $n temp folder(s) in $tmp"
  fi
fi
