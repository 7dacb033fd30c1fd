#!/usr/bin/env bash
# Node.js 24, the container image's runtime: Node's official Linux binary (cached). Exports
# SWF_SIDECAR_NODE24, the path of its `node`, for the second run of the test suite.
# Sourced by scripts/test.sh after scripts/lib.sh.
SWF_SIDECAR_NODE24="$(node_dist "$NODE24_VERSION")/bin/node"
export SWF_SIDECAR_NODE24
"$SWF_SIDECAR_NODE24" --version
