# ensure_registry2: a second registry on 127.0.0.1:5001 (sourced by up.sh), made as the first one (daemons.sh
# ensure_registry): docker-registry with its own config and storage under the state dir, deletes enabled, plain HTTP
# on loopback (dockerd treats 127.0.0.0/8 as an insecure registry). It stands for "another registry than the
# stages'" in the tests of --final-repo and --cache-repo (copies between registries go through
# `docker buildx imagetools create`). down.sh stops it (pid file registry2.pid).

REGISTRY2_ADDR="127.0.0.1:5001"

registry2_answers() { curl -fsS -o /dev/null --max-time 2 "http://$REGISTRY2_ADDR/v2/" 2>/dev/null; }

ensure_registry2() {
  if registry2_answers; then
    say registry2 "already ok (http://$REGISTRY2_ADDR)"
    return 0
  fi
  command -v docker-registry >/dev/null || die "docker-registry is not installed"
  if ! pid_alive "$STACK_RUN/registry2.pid" docker-registry; then
    mkdir -p "$STACK_STATE/registry2/data"
    cat >"$STACK_STATE/registry2/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STACK_STATE/registry2/data
  delete:
    enabled: true
http:
  addr: $REGISTRY2_ADDR
YAML
    printf '\n=== %s registry2 start ===\n' "$(date -u +%FT%TZ)" >>"$STACK_LOGS/registry2.log"
    setsid nohup docker-registry serve "$STACK_STATE/registry2/config.yml" \
      >>"$STACK_LOGS/registry2.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STACK_RUN/registry2.pid"
  fi
  if ! wait_alive_until 20 "$STACK_RUN/registry2.pid" docker-registry registry2_answers; then
    log_tail "$STACK_LOGS/registry2.log"
    die "the second registry did not answer http://$REGISTRY2_ADDR/v2/ within 20s or exited (is the port taken? log: $STACK_LOGS/registry2.log)"
  fi
  say registry2 "started (http://$REGISTRY2_ADDR, storage $STACK_STATE/registry2/data; log: $STACK_LOGS/registry2.log)"
}
