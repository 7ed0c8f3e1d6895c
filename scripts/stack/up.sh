#!/usr/bin/env bash
# Brings up stapel2docker's real build stack, idempotently: Debian packages (docker.io >= 26 and
# docker-buildx >= 0.13 from trixie, docker-registry, static busybox and bash), dockerd, a registry on
# 127.0.0.1:5000 (and a second one on 127.0.0.1:5001: registry2.sh), the local base/toolchain images and a checked buildx builder. Everything already
# up is only checked. Prints one line per component, with its seconds. Run as root. See docs/stack.md.
# With --hosts, also two more build hosts: dockerd "b" and "c" (own data, exec root and socket under the state dir;
# "c" with the containerd image store), addressed with DOCKER_HOST (daemons.sh, docs/builders.md), and what
# multi-platform builds need: qemu-user-static in binfmt_misc, arm64 static busybox/bash, a base image index
# (multiarch.sh), and the buildx builder "s2d-remote" (remote driver to dockerd c's BuildKit; remote-builder.sh).
# Environment: STAPEL2DOCKER_STACK_DIR (state dir, default /var/lib/stapel2docker-stack),
#              STAPEL2DOCKER_DOCKERD_TIMEOUT (seconds to wait for dockerd, default 90).
set -euo pipefail
STACK_HERE="$(cd "$(dirname "$0")" && pwd)"
. "$STACK_HERE/lib.sh"
. "$STACK_HERE/packages.sh"
. "$STACK_HERE/daemons.sh"
. "$STACK_HERE/images.sh"
. "$STACK_HERE/buildx.sh"
. "$STACK_HERE/multiarch.sh"
. "$STACK_HERE/remote-builder.sh"
. "$STACK_HERE/registry2.sh"

[ "$(id -u)" -eq 0 ] || die "up.sh must run as root (it installs packages and starts dockerd)"
mkdir -p "$STACK_LOGS" "$STACK_RUN"

# One up.sh at a time (tests may call it concurrently).
exec 9>"$STACK_STATE/up.lock"
flock -w 900 9 || die "another up.sh holds $STACK_STATE/up.lock for more than 15 minutes"

ensure_packages
ensure_dockerd
ensure_registry
ensure_registry2
ensure_images
ensure_buildx
if [ "${1:-}" = "--hosts" ]; then
  ensure_hosts
  ensure_multiarch
  ensure_remote_builder
fi
say stack "up in $(since_start) s (state: $STACK_STATE; logs: $STACK_LOGS)"
