#!/usr/bin/env bash
# Proves that the engine's BuildKit does what stapel2docker's Dockerfiles need, with no image pull:
# `docker buildx bake` of a JSON bake file with a named context, a Dockerfile without a `# syntax=`
# line using a heredoc, bind mount from the toolchain image, cache, tmpfs and ssh mounts, pushed to
# the local registry. Needs the stack up (images, registry). Prints what it does; exits non-zero on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/stapel2docker-probe.XXXXXX")"
trap 'rm -rf "$work"' EXIT
id="probe-$(date +%s)-$$"
ssh-keygen -q -t ed25519 -N '' -f "$work/key" >/dev/null

cat >"$work/Dockerfile" <<'DOCKERFILE'
FROM stapel2docker/base-busybox AS probe
SHELL ["/.stapel/bin/bash", "-ec"]
RUN --mount=type=bind,from=toolchain,source=/.stapel,target=/.stapel \
    --mount=type=cache,id=stapel2docker-probe,target=/cache \
    --mount=type=tmpfs,target=/scratch \
    --mount=type=ssh,required=true <<'SCRIPT'
declare -a parts=(heredoc bash)
[[ ${#parts[@]} -eq 2 ]]
test -S "$SSH_AUTH_SOCK"
grep -q ' /scratch tmpfs ' /proc/mounts
date > /cache/last
echo "${parts[*]} ok" > /probe.txt
SCRIPT
DOCKERFILE

cat >"$work/docker-bake.json" <<JSON
{
  "target": {
    "probe": {
      "context": ".",
      "dockerfile": "Dockerfile",
      "target": "probe",
      "contexts": { "toolchain": "docker-image://stapel2docker/toolchain:latest" },
      "ssh": ["default=$work/key"],
      "tags": ["$REGISTRY_ADDR/stapel2docker-probe/probe:$id"],
      "output": ["type=image,push=true"]
    }
  }
}
JSON

(cd "$work" && docker buildx bake --progress=plain -f docker-bake.json probe)
tags="$(curl -fsS "http://$REGISTRY_ADDR/v2/stapel2docker-probe/probe/tags/list")"
echo "registry tags: $tags"
case "$tags" in *"\"$id\""*) ;; *) echo "pushed tag $id not in the registry" >&2; exit 1 ;; esac
out="$(docker run --rm "$REGISTRY_ADDR/stapel2docker-probe/probe:$id" cat /probe.txt)"
echo "run: $out"
[ "$out" = "heredoc bash ok" ]
docker image rm "$REGISTRY_ADDR/stapel2docker-probe/probe:$id" >/dev/null
echo "probe ok"
