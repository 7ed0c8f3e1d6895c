# ensure_dockerd, ensure_registry: the Docker engine and the local registry (sourced by up.sh).

DOCKERD_START_TIMEOUT="${STAPEL2DOCKER_DOCKERD_TIMEOUT:-90}"

ensure_dockerd() {
  if docker_answers; then
    say dockerd "already ok (engine $(docker version -f '{{.Server.Version}}' 2>/dev/null))"
    return 0
  fi
  command -v dockerd >/dev/null || die "dockerd is not installed"
  if ! pid_alive "$STACK_RUN/dockerd.pid" dockerd; then
    # dockerd refuses to start while its own pid file names a live process; one left by an earlier
    # machine session may name an unrelated one.
    if [ -s /var/run/docker.pid ] && ! pid_alive /var/run/docker.pid dockerd; then rm -f /var/run/docker.pid; fi
    # No init system here: run it in its own session, detached from our stdio.
    # --iptables=false: the machine has no netfilter to spare; builds use the default bridge.
    printf '\n=== %s dockerd start ===\n' "$(date -u +%FT%TZ)" >>"$STACK_LOGS/dockerd.log"
    setsid nohup dockerd --iptables=false \
      >>"$STACK_LOGS/dockerd.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STACK_RUN/dockerd.pid"
  fi
  if ! wait_alive_until "$DOCKERD_START_TIMEOUT" "$STACK_RUN/dockerd.pid" dockerd docker_answers; then
    log_tail "$STACK_LOGS/dockerd.log"
    die "dockerd did not answer 'docker info' within ${DOCKERD_START_TIMEOUT}s or exited (log: $STACK_LOGS/dockerd.log)"
  fi
  say dockerd "started (engine $(docker version -f '{{.Server.Version}}' 2>/dev/null); log: $STACK_LOGS/dockerd.log)"
}

write_registry_config() {
  mkdir -p "$STACK_STATE/registry/data"
  cat >"$STACK_STATE/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STACK_STATE/registry/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
YAML
}

ensure_registry() {
  if registry_answers; then
    say registry "already ok (http://$REGISTRY_ADDR)"
    return 0
  fi
  command -v docker-registry >/dev/null || die "docker-registry is not installed"
  if ! pid_alive "$STACK_RUN/registry.pid" docker-registry; then
    write_registry_config
    printf '\n=== %s registry start ===\n' "$(date -u +%FT%TZ)" >>"$STACK_LOGS/registry.log"
    setsid nohup docker-registry serve "$STACK_STATE/registry/config.yml" \
      >>"$STACK_LOGS/registry.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STACK_RUN/registry.pid"
  fi
  if ! wait_alive_until 20 "$STACK_RUN/registry.pid" docker-registry registry_answers; then
    log_tail "$STACK_LOGS/registry.log"
    die "the registry did not answer http://$REGISTRY_ADDR/v2/ within 20s or exited (is the port taken? log: $STACK_LOGS/registry.log)"
  fi
  say registry "started (http://$REGISTRY_ADDR, storage $STACK_STATE/registry/data; log: $STACK_LOGS/registry.log)"
}
