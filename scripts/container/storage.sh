#!/usr/bin/env bash
# Container storage and configuration shared by scripts/container/podman and buildah (sourced).
# Every command passes the driver explicitly: buildah 1.28 ignores STORAGE_DRIVER, and images
# built without the flag were invisible to later commands.
cache="${SWF_SIDECAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swf-sidecar}"
export CONTAINERS_CONF="$cache/containers.conf"
if [ ! -f "$CONTAINERS_CONF" ]; then
  mkdir -p "$cache"
  printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF.$$" && mv "$CONTAINERS_CONF.$$" "$CONTAINERS_CONF"
fi
CONTAINER_STORAGE_FLAGS=(--storage-driver overlay --root /var/lib/containers/swf-sidecar --runroot /run/containers/swf-sidecar)
