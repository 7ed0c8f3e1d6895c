#!/usr/bin/env bash
# Three local Debian bookworm images for the ansible equivalence tests (test/ansible/), made without pulling:
#   stapel2docker/debian-plain:bookworm     debootstrap (minbase + a few tools) of the machine's own Debian mirror
#   stapel2docker/debian-pip:bookworm       the same plus python3-pip (our side of the pip cases only)
#   stapel2docker/debian-ansible:bookworm   the same plus Debian's full `ansible` package (ansible-core and the
#                                           community collections: community.general has locale_gen, timezone)
#                                           and python3-apt (for ansible's `apt`)
# All come from ONE debootstrap run: each image is imported, then the next packages are installed into the
# same directory with apt in a chroot, and that is imported as the next image.
# Versioned: every image carries the label io.stapel2docker.ansible-image=$IMAGES_VERSION; images of another
# version are rebuilt (bump it whenever what goes into the images changes). The mirror URL is read from
# /etc/apt/sources.list.d/debian.sources (or /etc/apt/sources.list); no host is written here.
# Idempotent: when both images exist it only says so (well under a second). Needs root and a running dockerd
# (scripts/stack/up.sh). Safe to run concurrently (flock).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/lib.sh"
. "$HERE/images.sh"   # image_present, import_rootfs

IMAGE_DEBIAN_PLAIN="stapel2docker/debian-plain:bookworm"
IMAGE_DEBIAN_PIP="stapel2docker/debian-pip:bookworm"
IMAGE_DEBIAN_ANSIBLE="stapel2docker/debian-ansible:bookworm"
IMAGES_VERSION=2
# In both images: what the tested modules call (useradd/groupadd come with passwd, which minbase has).
EXTRA_PACKAGES="locales,tzdata,gzip,tar,unzip,gnupg,ca-certificates,sudo"
PIP_PACKAGES="python3-pip"
ANSIBLE_PACKAGES="ansible python3-apt"
WORK_ROOT="$STACK_STATE/ansible"

current() { [ "$(docker image inspect -f '{{ index .Config.Labels "io.stapel2docker.ansible-image" }}' "$1" 2>/dev/null)" = "$IMAGES_VERSION" ]; }
both_present() { current "$IMAGE_DEBIAN_PLAIN" && current "$IMAGE_DEBIAN_PIP" && current "$IMAGE_DEBIAN_ANSIBLE"; }

if both_present; then
  say ansible-image "already ok ($IMAGE_DEBIAN_PLAIN, $IMAGE_DEBIAN_PIP, $IMAGE_DEBIAN_ANSIBLE; version $IMAGES_VERSION)"
  exit 0
fi

mkdir -p "$WORK_ROOT" "$STACK_LOGS"
exec 9>"$WORK_ROOT/lock"
flock 9
if both_present; then
  say ansible-image "already ok (made by a concurrent run)"
  exit 0
fi
docker_answers || die "dockerd does not answer; run scripts/stack/up.sh first"

mirror() {
  local f=/etc/apt/sources.list.d/debian.sources url=""
  if [ -f "$f" ]; then
    url="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")"
  fi
  if [ -z "$url" ] && [ -f /etc/apt/sources.list ]; then
    url="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [ -n "$url" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources nor /etc/apt/sources.list"
  echo "$url"
}

LOG="$STACK_LOGS/ansible-image.log"
echo "=== ansible-image start ===" >>"$LOG"
if ! command -v debootstrap >/dev/null; then
  say ansible-image "installing debootstrap"
  apt-get install -y -o DPkg::Lock::Timeout=600 debootstrap >>"$LOG" 2>&1 \
    || { apt-get update -o DPkg::Lock::Timeout=600 >>"$LOG" 2>&1 && apt-get install -y -o DPkg::Lock::Timeout=600 debootstrap >>"$LOG" 2>&1; } \
    || { log_tail "$LOG"; die "apt-get install debootstrap failed"; }
fi

MIRROR="$(mirror)"
ROOTFS="$WORK_ROOT/rootfs"
rm -rf "$ROOTFS"
mkdir -p "$WORK_ROOT/debs"
say ansible-image "debootstrap bookworm (minbase) from the machine's mirror"
debootstrap --variant=minbase --include="$EXTRA_PACKAGES" --cache-dir="$WORK_ROOT/debs" bookworm "$ROOTFS" "$MIRROR" >>"$LOG" 2>&1 \
  || { log_tail "$LOG"; die "debootstrap failed (log: $LOG)"; }
# Trim what differs per run and what nobody needs in a test image.
clean_rootfs() {
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* \
    "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/etc/machine-id 2>/dev/null || true
  : >"$ROOTFS/etc/machine-id"
}
clean_rootfs
printf 'deb %s bookworm main\n' "$MIRROR" >"$ROOTFS/etc/apt/sources.list"
# No apt lists in the images: tests that use apt point it at a local file:// repository.
rm -f "$ROOTFS/etc/apt/sources.list"
: >"$ROOTFS/etc/apt/sources.list"
echo "en_US.UTF-8 UTF-8" >"$ROOTFS/etc/locale.gen"

ENV_CHANGES=(--change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" --change 'CMD ["/bin/bash"]'
  --change "LABEL io.stapel2docker.ansible-image=$IMAGES_VERSION")
import_rootfs "$ROOTFS" "$IMAGE_DEBIAN_PLAIN" "${ENV_CHANGES[@]}" || die "docker import of $IMAGE_DEBIAN_PLAIN failed"
say ansible-image "built $IMAGE_DEBIAN_PLAIN"

cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$ROOTFS/proc"
trap 'umount "$ROOTFS/proc" 2>/dev/null || true' EXIT
# install_then_import PACKAGES TAG: apt-get install into the rootfs (chroot), clean, import as TAG.
install_then_import() {
  say ansible-image "installing $1 into the rootfs"
  printf 'deb %s bookworm main\n' "$MIRROR" >"$ROOTFS/etc/apt/sources.list"
  chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get update && apt-get install -y --no-install-recommends $1" >>"$LOG" 2>&1 \
    || { log_tail "$LOG"; die "installing $1 failed (log: $LOG)"; }
  umount "$ROOTFS/proc"
  clean_rootfs
  : >"$ROOTFS/etc/apt/sources.list"
  mv "$ROOTFS/etc/resolv.conf" "$ROOTFS/etc/resolv.conf.keep" 2>/dev/null || true
  import_rootfs "$ROOTFS" "$2" "${ENV_CHANGES[@]}" || die "docker import of $2 failed"
  mv "$ROOTFS/etc/resolv.conf.keep" "$ROOTFS/etc/resolv.conf" 2>/dev/null || true
  mount -t proc proc "$ROOTFS/proc"
  say ansible-image "built $2"
}
install_then_import "$PIP_PACKAGES" "$IMAGE_DEBIAN_PIP"
install_then_import "$ANSIBLE_PACKAGES" "$IMAGE_DEBIAN_ANSIBLE"
umount "$ROOTFS/proc"; trap - EXIT
rm -rf "$ROOTFS"
