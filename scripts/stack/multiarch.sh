# ensure_multiarch: what multi-platform builds need on this amd64 machine (sourced by up.sh --hosts):
#   - qemu-user-static, its aarch64 handler registered in binfmt_misc with the fix-binary flag (F: the interpreter is
#     opened once at registration, so it also runs arm64 binaries inside containers and BuildKit's RUNs); binfmt_misc
#     is mounted when it is not;
#   - Debian's arm64 busybox-static and bash-static, downloaded (apt-get download, a private list with the machine's
#     own mirror from /etc/apt/sources.list.d/debian.sources and its suite) and unpacked under $STACK_STATE/arm64/root;
#   - the base image as an index in the registry, made with `docker import` like the amd64 one (nothing is pulled):
#       127.0.0.1:5000/stapel2docker/base-busybox:linux-amd64, :linux-arm64, and :multi (the index over both).
# Needs lib.sh, packages.sh (debian_mirror, apt_install) and images.sh (rootfs_minimal, rootfs_busybox).

ARM64_STATE="$STACK_STATE/arm64"
MULTI_BASE_REPO="$REGISTRY_ADDR/stapel2docker/base-busybox"

ensure_qemu() {
  if [ -x /usr/bin/qemu-aarch64-static ] || [ -n "$(installed_version qemu-user-static)" ]; then
    say qemu "already ok (qemu-user-static $(installed_version qemu-user-static))"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_install qemu-user-static || { log_tail "$STACK_LOGS/apt.log"; die "apt-get install qemu-user-static failed (log: $STACK_LOGS/apt.log)"; }
  say qemu "installed (qemu-user-static $(installed_version qemu-user-static))"
}

ensure_binfmt() {
  local conf=/usr/lib/binfmt.d/qemu-aarch64.conf handler=/proc/sys/fs/binfmt_misc/qemu-aarch64
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
  fi
  if [ -e "$handler" ]; then
    grep -q '^flags:.*F' "$handler" || die "binfmt handler qemu-aarch64 is registered without the fix-binary flag (F); remove it (echo -1 > $handler) and run up.sh --hosts again"
    say binfmt "already ok (qemu-aarch64, $(grep '^flags' "$handler"))"
    return 0
  fi
  [ -f "$conf" ] || die "$conf missing (qemu-user-static)"
  grep -q ':[A-Z]*F[A-Z]*$' "$conf" || die "$conf has no fix-binary flag (F)"
  cat "$conf" >/proc/sys/fs/binfmt_misc/register || die "cannot register $conf in binfmt_misc"
  say binfmt "registered (qemu-aarch64, $(grep '^flags' "$handler"))"
}

ensure_arm64_rootfs() {
  local root="$ARM64_STATE/root"
  if [ -x "$root/bin/busybox" ] && [ -x "$root/bin/bash-static" ]; then
    say arm64 "already ok (static busybox and bash in $root/bin)"
    return 0
  fi
  local suite mirror opts
  mirror="$(debian_mirror)"
  suite="$(awk '/^Suites:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)"
  [ -n "$suite" ] || suite="$(. /etc/os-release && echo "$VERSION_CODENAME")"
  mkdir -p "$ARM64_STATE/lists/partial" "$ARM64_STATE/cache/archives/partial" "$ARM64_STATE/debs" "$root"
  echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$ARM64_STATE/arm64.list"
  opts=(-o "Dir::Etc::SourceList=$ARM64_STATE/arm64.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$ARM64_STATE/lists" -o "Dir::Cache=$ARM64_STATE/cache"
        -o APT::Architecture=arm64 -o APT::Architectures::=arm64 "${APT_OPTS[@]}")
  apt-get "${opts[@]}" update -q >>"$STACK_LOGS/apt.log" 2>&1 || { log_tail "$STACK_LOGS/apt.log"; die "apt-get update of the arm64 list failed"; }
  (cd "$ARM64_STATE/debs" && apt-get "${opts[@]}" download busybox-static:arm64 bash-static:arm64) >>"$STACK_LOGS/apt.log" 2>&1 \
    || { log_tail "$STACK_LOGS/apt.log"; die "apt-get download of busybox-static:arm64 bash-static:arm64 failed"; }
  local deb
  for deb in "$ARM64_STATE"/debs/*.deb; do dpkg-deb -x "$deb" "$root" || die "cannot unpack $deb"; done
  "$root/bin/busybox" uname -m >/dev/null 2>&1 || die "the arm64 busybox does not run (binfmt)"
  say arm64 "downloaded (busybox-static and bash-static arm64 from $mirror $suite)"
}

manifest_present() { curl -fs -o /dev/null --max-time 5 -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' "http://$REGISTRY_ADDR/v2/${1#*/}/manifests/$2"; }

ensure_multi_base() {
  if manifest_present "$MULTI_BASE_REPO" multi; then
    say multi-base "already ok ($MULTI_BASE_REPO:multi)"
    return 0
  fi
  local work; work="$(mktemp -d "$STACK_STATE/rootfs.XXXXXX")"
  # amd64: the local base image as it is; arm64: the same rootfs made from the arm64 busybox
  docker tag "$IMAGE_BASE_BUSYBOX" "$MULTI_BASE_REPO:linux-amd64" && docker push -q "$MULTI_BASE_REPO:linux-amd64" >/dev/null \
    || die "cannot push $MULTI_BASE_REPO:linux-amd64"
  rootfs_minimal "$work"
  STATIC_BUSYBOX="$ARM64_STATE/root/bin/busybox" rootfs_busybox "$work"
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$work" -cf - . \
    | docker import --platform linux/arm64 --change 'CMD ["/bin/sh"]' --change "ENV $BASE_PATH_ENV" - "$MULTI_BASE_REPO:linux-arm64" >/dev/null \
    || die "docker import of the arm64 base failed"
  rm -rf "$work"
  docker push -q "$MULTI_BASE_REPO:linux-arm64" >/dev/null || die "cannot push $MULTI_BASE_REPO:linux-arm64"
  docker buildx imagetools create --tag "$MULTI_BASE_REPO:multi" "$MULTI_BASE_REPO:linux-amd64" "$MULTI_BASE_REPO:linux-arm64" >>"$STACK_LOGS/apt.log" 2>&1 \
    || die "docker buildx imagetools create of $MULTI_BASE_REPO:multi failed"
  say multi-base "pushed ($MULTI_BASE_REPO:multi: linux/amd64, linux/arm64)"
}

ensure_multiarch() {
  ensure_qemu
  ensure_binfmt
  ensure_arm64_rootfs
  ensure_multi_base
}
