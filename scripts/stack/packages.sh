# ensure_packages: Debian packages of the stack (sourced by up.sh; needs lib.sh).
# From the machine's own suite (bookworm): containerd, runc, tini, iptables, docker-registry,
# busybox-static, bash-static, curl. From trixie, through a private apt list that uses the same
# mirror as the machine's apt: docker.io and docker-cli (26) and docker-buildx (0.13); apt resolves
# their dependencies from the machine's suite when the local .deb files are installed.

STACK_APT="$STACK_STATE/apt"
BOOKWORM_PACKAGES=(containerd runc tini iptables docker-registry busybox-static bash-static curl tmux openssh-client openssl)
TRIXIE_PACKAGES=(docker.io docker-cli docker-buildx)
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

# The Debian mirror this machine already uses (never a host name of our own).
debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m="$(sed -E 's/\[[^]]*\]//' /etc/apt/sources.list | awk '$1=="deb" && $2 !~ /security/ {print $2; exit}')"
  fi
  [ -n "$m" ] || die "cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  printf '%s\n' "$m"
}

# Options that make apt-get/apt-cache see only the private trixie list.
trixie_apt_opts() {
  printf '%s\n' -o "Dir::Etc::SourceList=$STACK_APT/trixie.list" -o Dir::Etc::SourceParts=/dev/null \
    -o "Dir::State::Lists=$STACK_APT/lists" -o "Dir::Cache=$STACK_APT/cache"
}

# missing_packages: names (one a line) of the packages that are absent or too old.
missing_packages() {
  local p v
  for p in "${BOOKWORM_PACKAGES[@]}"; do
    [ -n "$(installed_version "$p")" ] || echo "$p"
  done
  v="$(installed_version docker.io)"; { [ -n "$v" ] && version_ge "$v" "$MIN_DOCKER_ENGINE"; } || echo docker.io
  v="$(installed_version docker-cli)"; { [ -n "$v" ] && version_ge "$v" "$MIN_DOCKER_ENGINE"; } || echo docker-cli
  v="$(installed_version docker-buildx)"; { [ -n "$v" ] && version_ge "$v" "$MIN_BUILDX"; } || echo docker-buildx
}

# download_trixie_debs: the trixie .deb files into $STACK_APT/debs (kept as a cache).
download_trixie_debs() {
  local -a o; mapfile -t o < <(trixie_apt_opts)
  local p missing=()
  mkdir -p "$STACK_APT/lists/partial" "$STACK_APT/cache/archives/partial" "$STACK_APT/debs"
  for p in "${TRIXIE_PACKAGES[@]}"; do
    compgen -G "$STACK_APT/debs/${p}_*.deb" >/dev/null || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "deb $(debian_mirror) trixie main" > "$STACK_APT/trixie.list"
  apt-get "${o[@]}" "${APT_OPTS[@]}" update -q >>"$STACK_LOGS/apt.log" 2>&1 \
    || { log_tail "$STACK_LOGS/apt.log"; die "apt-get update of the trixie list failed (log: $STACK_LOGS/apt.log)"; }
  # apt's sandbox user must be able to write the download directory.
  chmod 755 "$STACK_APT" "$STACK_APT/debs"; chown _apt "$STACK_APT/debs" 2>/dev/null || true
  (cd "$STACK_APT/debs" && apt-get "${o[@]}" "${APT_OPTS[@]}" download "${missing[@]}") >>"$STACK_LOGS/apt.log" 2>&1 \
    || { log_tail "$STACK_LOGS/apt.log"; die "apt-get download ${missing[*]} from trixie failed (log: $STACK_LOGS/apt.log)"; }
}

# bookworm_lists_ready: the machine's own package lists know the packages we need.
bookworm_lists_ready() {
  local p
  for p in "${BOOKWORM_PACKAGES[@]}"; do
    [ -n "$(installed_version "$p")" ] && continue
    apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || return 1
  done
}

apt_install() {
  apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends "$@" >>"$STACK_LOGS/apt.log" 2>&1
}

ensure_packages() {
  local missing; missing="$(missing_packages | tr '\n' ' ')"
  if [ -z "${missing// /}" ]; then
    say packages "already ok (docker.io $(installed_version docker.io), docker-buildx $(installed_version docker-buildx))"
    return 0
  fi
  echo "stack: installing: $missing(log: $STACK_LOGS/apt.log)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! bookworm_lists_ready; then
    apt-get "${APT_OPTS[@]}" update -q >>"$STACK_LOGS/apt.log" 2>&1 \
      || { log_tail "$STACK_LOGS/apt.log"; die "apt-get update failed (log: $STACK_LOGS/apt.log)"; }
  fi
  local want=" $missing " debs=() plain=() p
  for p in "${BOOKWORM_PACKAGES[@]}"; do
    if [[ "$want" == *" $p "* ]]; then plain+=("$p"); fi
  done
  if [[ "$want" == *" docker."* || "$want" == *" docker-cli "* || "$want" == *" docker-buildx "* ]]; then
    download_trixie_debs
    for p in "${TRIXIE_PACKAGES[@]}"; do
      debs+=("$(ls -1 "$STACK_APT/debs/${p}"_*.deb | sort -V | tail -n 1)")
    done
  fi
  if ! apt_install "${debs[@]}" "${plain[@]}"; then
    # The machine's lists may be old enough that the mirror no longer has those versions.
    echo "stack: install failed; refreshing the package lists and trying again" >&2
    apt-get "${APT_OPTS[@]}" update -q >>"$STACK_LOGS/apt.log" 2>&1 \
      || { log_tail "$STACK_LOGS/apt.log"; die "apt-get update failed (log: $STACK_LOGS/apt.log)"; }
    apt_install "${debs[@]}" "${plain[@]}" \
      || { log_tail "$STACK_LOGS/apt.log"; die "installing the stack's packages failed (log: $STACK_LOGS/apt.log)"; }
  fi
  missing="$(missing_packages | tr '\n' ' ')"
  [ -z "${missing// /}" ] || die "still missing or too old after install: $missing(log: $STACK_LOGS/apt.log)"
  say packages "installed (docker.io $(installed_version docker.io), docker-buildx $(installed_version docker-buildx))"
}
