# ensure_registry2: a second registry on 127.0.0.1:5001 (sourced by up.sh), made as the first one
# (daemons.sh ensure_registry_named): its own config, storage, log and pid file under the stack's dirs. It stands for
# "another registry than the stages'" in the tests of --final-repo and --cache-repo (copies between registries go through
# `docker buildx imagetools create`). down.sh stops it (pid file registry2.pid).

REGISTRY2_ADDR="127.0.0.1:5001"

ensure_registry2() { ensure_registry_named registry2 "$REGISTRY2_ADDR" "the second registry"; }
