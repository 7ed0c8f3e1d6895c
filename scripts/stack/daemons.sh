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

# A docker-registry NAME on ADDR (config and storage under $STACK_STATE/NAME, log $STACK_LOGS/NAME.log, pid file
# $STACK_RUN/NAME.pid): deletes enabled, plain HTTP on loopback (dockerd treats 127.0.0.0/8 as an insecure registry).
registry_at_answers() { curl -fsS -o /dev/null --max-time 2 "http://$1/v2/" 2>/dev/null; }

ensure_registry_named() {
  local name="$1" addr="$2" what="$3"
  if registry_at_answers "$addr"; then
    say "$name" "already ok (http://$addr)"
    return 0
  fi
  command -v docker-registry >/dev/null || die "docker-registry is not installed"
  if ! pid_alive "$STACK_RUN/$name.pid" docker-registry; then
    mkdir -p "$STACK_STATE/$name/data"
    cat >"$STACK_STATE/$name/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STACK_STATE/$name/data
  delete:
    enabled: true
http:
  addr: $addr
YAML
    printf '\n=== %s %s start ===\n' "$(date -u +%FT%TZ)" "$name" >>"$STACK_LOGS/$name.log"
    setsid nohup docker-registry serve "$STACK_STATE/$name/config.yml" \
      >>"$STACK_LOGS/$name.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STACK_RUN/$name.pid"
  fi
  if ! wait_alive_until 20 "$STACK_RUN/$name.pid" docker-registry registry_at_answers "$addr"; then
    log_tail "$STACK_LOGS/$name.log"
    die "$what did not answer http://$addr/v2/ within 20s or exited (is the port taken? log: $STACK_LOGS/$name.log)"
  fi
  say "$name" "started (http://$addr, storage $STACK_STATE/$name/data; log: $STACK_LOGS/$name.log)"
}

ensure_registry() { ensure_registry_named registry "$REGISTRY_ADDR" "the registry"; }

# ---- extra build hosts: dockerd "b" and "c" next to the default one (up.sh --hosts)
# Each is a separate build host: its own --data-root (image store, BuildKit cache), --exec-root (its own managed
# containerd), --pidfile and socket, no iptables. Tests address one with DOCKER_HOST=unix://$STACK_RUN/dockerd-<name>.sock.
# Host "c" runs the containerd image store (features.containerd-snapshotter), which multi-platform builds need.
# Their config files are their own: the default daemon's /etc/docker/daemon.json is never read or changed.
#
# Networking: NOT --bridge=none. A dockerd started with --bridge=none deletes the interface "docker0" at start-up
# (moby's removeDefaultBridgeInterface), which cuts every container and RUN of the default daemon off its bridge
# ("adding interface veth... to bridge docker0 failed: Device does not exist"); and BuildKit inside a dockerd
# without a "bridge" network fails every RUN ("network bridge not found"). So each extra host gets a bridge of
# its own, made here before it starts: s2d-br-<name>, 172.31.<n>.1/24, no iptables, no masquerade.
EXTRA_HOSTS="b c"

host_sock() { echo "$STACK_RUN/dockerd-$1.sock"; }
host_answers() { DOCKER_HOST="unix://$(host_sock "$1")" timeout 10 docker info >/dev/null 2>&1; }
host_subnet() { case "$1" in b) echo 172.31.11.1/24 ;; c) echo 172.31.12.1/24 ;; esac; }

write_host_config() {
  local name="$1" dir="$STACK_STATE/hosts/$1"
  mkdir -p "$dir/data"
  if [ "$name" = c ]; then
    printf '{\n  "features": { "containerd-snapshotter": true }\n}\n' >"$dir/daemon.json"
  else
    printf '{}\n' >"$dir/daemon.json"
  fi
}

# ensure_host_bridge NAME: the host's own bridge interface, up, with its address.
ensure_host_bridge() {
  local br="s2d-br-$1" addr; addr="$(host_subnet "$1")"
  ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge || die "cannot create bridge $br"
  ip -4 addr show dev "$br" | grep -q "inet ${addr%/*}/" || ip addr add "$addr" dev "$br" || die "cannot address bridge $br"
  ip link set "$br" up || die "cannot bring bridge $br up"
}

ensure_host() {
  local name="$1" sock pidfile exec_root
  sock="$(host_sock "$name")"; pidfile="$STACK_RUN/dockerd-$name.pid"
  # a short exec-root: containerd's socket path must stay under 108 bytes
  exec_root="/run/s2d-dockerd-$name"
  if host_answers "$name"; then
    say "dockerd-$name" "already ok (DOCKER_HOST=unix://$sock)"
    return 0
  fi
  if ! pid_alive "$pidfile" dockerd; then
    write_host_config "$name"
    ensure_host_bridge "$name"
    rm -f "$sock" "$pidfile"
    printf '\n=== %s dockerd-%s start ===\n' "$(date -u +%FT%TZ)" "$name" >>"$STACK_LOGS/dockerd-$name.log"
    setsid nohup dockerd --config-file "$STACK_STATE/hosts/$name/daemon.json" \
      --data-root "$STACK_STATE/hosts/$name/data" --exec-root "$exec_root" --pidfile "$pidfile" \
      --host "unix://$sock" --bridge "s2d-br-$name" --iptables=false --ip6tables=false --ip-masq=false \
      >>"$STACK_LOGS/dockerd-$name.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STACK_RUN/dockerd-$name.launched"
  else
    cat "$pidfile" >"$STACK_RUN/dockerd-$name.launched"
  fi
  if ! wait_alive_until "$DOCKERD_START_TIMEOUT" "$STACK_RUN/dockerd-$name.launched" dockerd host_answers "$name"; then
    log_tail "$STACK_LOGS/dockerd-$name.log"
    die "dockerd-$name did not answer on $sock within ${DOCKERD_START_TIMEOUT}s (log: $STACK_LOGS/dockerd-$name.log)"
  fi
  say "dockerd-$name" "started (DOCKER_HOST=unix://$sock; bridge s2d-br-$name; data $STACK_STATE/hosts/$name/data; log: $STACK_LOGS/dockerd-$name.log)"
}

ensure_hosts() {
  local name
  for name in $EXTRA_HOSTS; do ensure_host "$name"; done
}
