#!/usr/bin/env bash
# Installs what building and running images needs here, and points at the wrappers that carry
# the flags (scripts/container/podman, buildah). Sourced after scripts/lib.sh.
apt_install buildah podman runc catatonit mmdebstrap uidmap
CONTAINER_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
buildah_cmd() { "$CONTAINER_TOOLS/buildah" "$@"; }
podman_cmd() { "$CONTAINER_TOOLS/podman" "$@"; }
