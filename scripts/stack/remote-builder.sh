# ensure_remote_builder: a buildx builder of the `remote` driver, "s2d-remote" (sourced by up.sh --hosts, after
# ensure_hosts). No standalone buildkitd can be had here (not in Debian, no Go module proxy, no image pull), but
# dockerd embeds BuildKit and serves its gRPC API on the engine socket (`POST /grpc`, upgraded to h2c: what buildx's
# docker driver uses). buildkit-proxy.mjs puts that API of dockerd "c" on a unix socket of its own, and the builder
# speaks to it as to any remote buildkitd: buildx knows nothing of a docker daemon behind it (no local image store
# through the driver, no `docker push` by the engine; BuildKit's own image exporter pushes).
# Why host "c": only a dockerd with the containerd image store has BuildKit's `image` exporter (push=true); the
# classic store's embedded BuildKit has only moby's own exporter, which buildx's docker driver pushes through the
# engine, and a remote-driver bake to it fails with `exporter "image" could not be found` (docs/builders.md).
# Needs lib.sh and daemons.sh (host_sock). down.sh stops the proxy; the builder's registration stays (buildx ls
# shows it stopped until the next up.sh --hosts); down.sh --purge removes it.

REMOTE_BUILDER="s2d-remote"
REMOTE_HOST="c"

remote_sock() { echo "$STACK_RUN/buildkit-$REMOTE_HOST.sock"; }
# (the whole answer first: with pipefail, grep -q closing the pipe early would fail the check)
remote_answers() {
  local out; out="$(timeout 20 docker buildx inspect --bootstrap "$REMOTE_BUILDER" 2>/dev/null)" || return 1
  grep -q '^Status: *running' <<<"$out"
}

ensure_buildkit_proxy() {
  local sock pidfile; sock="$(remote_sock)"; pidfile="$STACK_RUN/buildkit-proxy.pid"
  if pid_alive "$pidfile" node && [ -S "$sock" ]; then
    say buildkit-proxy "already ok (unix://$sock -> dockerd-$REMOTE_HOST /grpc)"
    return 0
  fi
  command -v node >/dev/null || die "node is not installed (the BuildKit proxy is a Node script)"
  rm -f "$pidfile"
  printf '\n=== %s buildkit-proxy start ===\n' "$(date -u +%FT%TZ)" >>"$STACK_LOGS/buildkit-proxy.log"
  setsid nohup node "$STACK_HERE/buildkit-proxy.mjs" --listen "$sock" --docker "$(host_sock "$REMOTE_HOST")" \
    >>"$STACK_LOGS/buildkit-proxy.log" 2>&1 </dev/null 9>&- &
  echo $! >"$pidfile"
  # no name check while it starts: the pid is setsid's, then nohup's, before it is node's
  if ! wait_alive_until 10 "$pidfile" "" test -S "$sock"; then
    log_tail "$STACK_LOGS/buildkit-proxy.log"
    die "the BuildKit proxy did not listen on $sock within 10s (log: $STACK_LOGS/buildkit-proxy.log)"
  fi
  say buildkit-proxy "started (unix://$sock -> dockerd-$REMOTE_HOST POST /grpc, h2c; log: $STACK_LOGS/buildkit-proxy.log)"
}

ensure_remote_builder() {
  ensure_buildkit_proxy
  local sock endpoint; sock="$(remote_sock)"
  endpoint="$(docker buildx inspect "$REMOTE_BUILDER" 2>/dev/null | awk '$1=="Endpoint:"{print $2; exit}' || true)"
  local made=""
  if [ "$endpoint" != "unix://$sock" ]; then
    made=1
    # absent, or made for another socket (another STACK_DIR): make it again
    [ -z "$endpoint" ] || docker buildx rm "$REMOTE_BUILDER" >/dev/null 2>&1 || true
    docker buildx create --name "$REMOTE_BUILDER" --driver remote "unix://$sock" >/dev/null \
      || die "docker buildx create --name $REMOTE_BUILDER --driver remote unix://$sock failed"
  fi
  if ! remote_answers; then
    log_tail "$STACK_LOGS/buildkit-proxy.log"
    die "the buildx builder $REMOTE_BUILDER (remote driver, unix://$sock) did not bootstrap (docker buildx inspect --bootstrap $REMOTE_BUILDER)"
  fi
  if [ -n "$made" ]; then
    say remote-builder "created (docker buildx --builder $REMOTE_BUILDER: driver remote, unix://$sock, BuildKit of dockerd-$REMOTE_HOST)"
  else
    say remote-builder "already ok (docker buildx --builder $REMOTE_BUILDER: driver remote, unix://$sock, BuildKit of dockerd-$REMOTE_HOST)"
  fi
}
