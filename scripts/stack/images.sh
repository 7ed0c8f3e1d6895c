# ensure_images: local base and toolchain images made with `docker import` from Debian's
# static busybox and bash (no image can be pulled). Sourced by up.sh.
#   stapel2docker/base-busybox  busybox at /bin/busybox, applet symlinks, /bin/sh, /tmp, /etc/passwd, /etc/group
#   stapel2docker/base-bash     the same plus static bash at /bin/bash
#   stapel2docker/toolchain     scratch image with /.stapel/bin/{bash,busybox} and busybox applets in /.stapel/bin;
#                               mount it with --mount=type=bind,from=stapel2docker/toolchain,source=/.stapel,target=/.stapel

STATIC_BUSYBOX=/bin/busybox
STATIC_BASH=/bin/bash-static
BASE_PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# rootfs_minimal DIR: /tmp, /root and the account files every base image has.
rootfs_minimal() {
  mkdir -p "$1/tmp" "$1/root" "$1/etc"
  chmod 1777 "$1/tmp"; chmod 700 "$1/root"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
}

# rootfs_busybox DIR: /bin/busybox and one symlink per applet at its usual place.
rootfs_busybox() {
  local dir="$1" applet
  install -D -m 0755 "$STATIC_BUSYBOX" "$dir/bin/busybox"
  while read -r applet; do
    [ -n "$applet" ] && [ ! -e "$dir/$applet" ] || continue
    mkdir -p "$dir/$(dirname "$applet")"
    ln -s /bin/busybox "$dir/$applet"
  done < <("$STATIC_BUSYBOX" --list-full)
  [ -x "$dir/bin/sh" ] || ln -sf busybox "$dir/bin/sh"
}

# rootfs_toolchain DIR: /.stapel/bin with static bash, busybox and relative applet symlinks.
rootfs_toolchain() {
  local bin="$1/.stapel/bin" applet
  install -D -m 0755 "$STATIC_BUSYBOX" "$bin/busybox"
  install -D -m 0755 "$STATIC_BASH" "$bin/bash"
  while read -r applet; do
    [ -n "$applet" ] && [ ! -e "$bin/$applet" ] || continue
    ln -s busybox "$bin/$applet"
  done < <("$STATIC_BUSYBOX" --list)
}

# import_rootfs DIR TAG DOCKER-IMPORT-OPTIONS...: a reproducible tar of DIR, imported as TAG.
import_rootfs() {
  local dir="$1" tag="$2"; shift 2
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$dir" -cf - . \
    | docker import "$@" - "$tag" >/dev/null
}

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

source_label() {
  echo "io.stapel2docker.source=\"busybox-static $(installed_version busybox-static), bash-static $(installed_version bash-static)\""
}

build_image() {
  local tag="$1" work; work="$(mktemp -d "$STACK_STATE/rootfs.XXXXXX")"
  case "$tag" in
    "$IMAGE_BASE_BUSYBOX")
      rootfs_minimal "$work"; rootfs_busybox "$work"
      import_rootfs "$work" "$tag" --change 'CMD ["/bin/sh"]' --change "ENV $BASE_PATH_ENV" --change "LABEL $(source_label)" ;;
    "$IMAGE_BASE_BASH")
      rootfs_minimal "$work"; rootfs_busybox "$work"
      rm -f "$work/bin/bash"; install -m 0755 "$STATIC_BASH" "$work/bin/bash"
      import_rootfs "$work" "$tag" --change 'CMD ["/bin/bash"]' --change "ENV $BASE_PATH_ENV" --change "LABEL $(source_label)" ;;
    "$IMAGE_TOOLCHAIN")
      rootfs_toolchain "$work"
      import_rootfs "$work" "$tag" --change 'CMD ["/.stapel/bin/bash"]' --change "LABEL $(source_label)" ;;
    *) rm -rf "$work"; die "unknown image $tag" ;;
  esac
  local rc=$?
  rm -rf "$work"
  return "$rc"
}

ensure_images() {
  local tag
  for tag in "$IMAGE_BASE_BUSYBOX" "$IMAGE_BASE_BASH" "$IMAGE_TOOLCHAIN"; do
    if image_present "$tag"; then
      say image "already ok ($tag)"
      continue
    fi
    [ -x "$STATIC_BUSYBOX" ] && [ -x "$STATIC_BASH" ] || die "static busybox/bash missing ($STATIC_BUSYBOX, $STATIC_BASH)"
    build_image "$tag" || die "docker import of $tag failed"
    image_present "$tag" || die "$tag is still missing after docker import"
    say image "built ($tag)"
  done
}
