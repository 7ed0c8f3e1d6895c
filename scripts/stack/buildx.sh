# ensure_buildx: `docker buildx` works, the current builder uses the `docker` driver (BuildKit inside
# dockerd: it sees local images and pushes through the engine, which allows plain HTTP to 127.0.0.1),
# and the BuildKit features the project needs work (probe-buildkit.sh, re-run when versions change).
# Sourced by up.sh.

STACK_HERE="${STACK_HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"

ensure_buildx() {
  local bv; bv="$(docker buildx version 2>&1)" || die "'docker buildx version' failed: $bv"
  local driver; driver="$(docker buildx inspect 2>/dev/null | awk '$1=="Driver:"{print $2; exit}')"
  if [ "$driver" != "docker" ]; then
    docker buildx use default >/dev/null 2>&1 || die "cannot select the default (docker driver) buildx builder"
    driver="$(docker buildx inspect 2>/dev/null | awk '$1=="Driver:"{print $2; exit}')"
    [ "$driver" = "docker" ] || die "the default buildx builder does not use the docker driver (driver: ${driver:-none})"
  fi
  local stamp engine
  engine="$(docker version -f '{{.Server.Version}}' 2>/dev/null)"
  stamp="engine=$engine buildx=$(echo "$bv" | awk '{print $2}')"
  if [ -f "$STACK_STATE/probe.ok" ] && [ "$(cat "$STACK_STATE/probe.ok")" = "$stamp" ]; then
    say buildx "already ok ($bv; builder default, driver docker)"
    return 0
  fi
  if ! bash "$STACK_HERE/probe-buildkit.sh" >"$STACK_LOGS/probe.log" 2>&1; then
    log_tail "$STACK_LOGS/probe.log" 40
    die "the BuildKit feature probe failed (log: $STACK_LOGS/probe.log)"
  fi
  echo "$stamp" >"$STACK_STATE/probe.ok"
  say buildx "checked ($bv; driver docker: push to $REGISTRY_ADDR, bind/cache/tmpfs/ssh mounts, heredocs, bake contexts; log: $STACK_LOGS/probe.log)"
}
