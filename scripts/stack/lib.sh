# Shared settings and helpers for the stapel2docker build stack scripts (sourced, not run).
# Everything the stack keeps lives under one state directory:
#   $STACK_STATE/logs/      dockerd.log, registry.log, apt.log, probe.log
#   $STACK_STATE/registry/  config.yml and data/ (the registry's storage)
#   $STACK_STATE/apt/       private trixie package lists and the downloaded .deb cache
#   $STACK_STATE/run/       pid files of the daemons up.sh started
STACK_STATE="${STAPEL2DOCKER_STACK_DIR:-/var/lib/stapel2docker-stack}"
STACK_LOGS="$STACK_STATE/logs"
STACK_RUN="$STACK_STATE/run"
REGISTRY_ADDR="127.0.0.1:5000"

# Minimum versions the project relies on (BuildKit with built-in heredocs, bake named contexts).
MIN_DOCKER_ENGINE="26"
MIN_BUILDX="0.13"

# Local images made from Debian's static binaries (no image can be pulled).
IMAGE_BASE_BUSYBOX="stapel2docker/base-busybox:latest"
IMAGE_BASE_BASH="stapel2docker/base-bash:latest"
IMAGE_TOOLCHAIN="stapel2docker/toolchain:latest"

# say COMPONENT TEXT: one line per step, with the seconds since the previous line (or the script's start).
STACK_T0="$(date +%s%N)"
STACK_T_LAST="$STACK_T0"
# since_start: seconds since the script started, one decimal.
since_start() {
  local now; now="$(date +%s%N)"
  printf '%d.%d' $(( (now - STACK_T0) / 1000000000 )) $(( (now - STACK_T0) / 100000000 % 10 ))
}
say() {
  local now; now="$(date +%s%N)"
  printf '%-14s %s [%d.%d s]\n' "$1" "$2" $(( (now - STACK_T_LAST) / 1000000000 )) $(( (now - STACK_T_LAST) / 100000000 % 10 ))
  STACK_T_LAST="$now"
}
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# log_tail FILE [N]: the last N lines of a log since its last "=== ... start ===" mark, indented,
# for error messages.
log_tail() {
  [ -f "$1" ] || return 0
  awk '/^=== .* start ===$/ { n = 0 } { line[++n] = $0 } END { for (i = 1; i <= n; i++) print line[i] }' "$1" \
    | tail -n "${2:-25}" | sed 's/^/    | /' >&2 || true
}

# version_ge A B: true when Debian version A >= B.
version_ge() { dpkg --compare-versions "$1" ge "$2"; }

# installed_version PKG: the installed version of a Debian package, or nothing.
installed_version() {
  dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null | awk '$1=="installed"{print $2}'
}

# wait_until SECONDS CMD...: retry CMD every 0.2 s until it succeeds or the time is up.
wait_until() {
  local limit=$(( $1 * 5 )) i=0; shift
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -ge "$limit" ] && return 1
    sleep 0.2
  done
}

# wait_alive_until SECONDS PIDFILE COMM CMD...: like wait_until, but gives up at once when the
# process COMM recorded in PIDFILE has exited.
wait_alive_until() {
  local limit=$(( $1 * 5 )) pidfile="$2" comm="$3" i=0; shift 3
  until "$@" >/dev/null 2>&1; do
    pid_alive "$pidfile" "$comm" || return 1
    i=$((i + 1)); [ "$i" -ge "$limit" ] && return 1
    sleep 0.2
  done
}

# pid_alive FILE [COMM]: the pid recorded in FILE is a running process (named COMM, when given:
# a pid file left by an earlier machine session may name an unrelated process by now).
pid_alive() {
  [ -s "$1" ] || return 1
  local pid; pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  [ -z "${2:-}" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

registry_answers() { curl -fsS -o /dev/null --max-time 2 "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }
docker_answers() { timeout 10 docker info >/dev/null 2>&1; }
