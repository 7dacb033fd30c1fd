#!/usr/bin/env bash
# build-image.sh: builds the repository's Dockerfile, unchanged, with buildah, and prints the
# image's name. Each base image a FROM line names is made first when it is not in local storage
# (make-node-base.sh: no registry is reachable here). The image is cached: its tag is a hash of
# the build context (the files .dockerignore lets in), the bases and the revision, so an
# unchanged tree reuses it. Safe to run concurrently (one build at a time).
#   SWF_SIDECAR_IMAGE_REBUILD=1 forces a build.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
exec 9>"$SWF_SIDECAR_CACHE/image-build.lock"
flock 9
source scripts/container/tools.sh

# The base images: FROM lines with the ARG defaults declared before the first FROM filled in.
declare -A args=()
bases=()
stages=()
while read -r keyword rest; do
  case "${keyword^^}" in
    ARG)
      [ "${#stages[@]}" -eq 0 ] && [[ "$rest" == *=* ]] && args["${rest%%=*}"]="${rest#*=}" ;;
    FROM)
      read -r image _ stage <<<"$rest"
      while [[ "$image" =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
        image="${image//"${BASH_REMATCH[0]}"/${args[${BASH_REMATCH[1]}]:-}}"
      done
      [[ " ${stages[*]} " == *" $image "* || "$image" == scratch ]] || bases+=("$image")
      stages+=("${stage:-}") ;;
  esac
done < <(grep -E '^\s*(ARG|FROM)\s' Dockerfile)

base_ids=()
for base in $(printf '%s\n' "${bases[@]}" | sort -u); do
  if ! buildah_cmd inspect --type image "$base" >/dev/null 2>&1; then
    bash scripts/container/make-node-base.sh "$base"
  fi
  base_ids+=("$(buildah_cmd inspect --type image --format '{{.FromImageID}}' "$base")")
done

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
version=$(node -p 'require("./package.json").version')
context=(Dockerfile .dockerignore $(sed -n 's/^!//p' .dockerignore))
key=$( { find "${context[@]}" -type f -print0 | sort -z | xargs -0 sha256sum; echo "${base_ids[*]} $revision"; } |
  sha256sum | cut -c1-16)
tag="localhost/swf-sidecar:ctx-$key"

if [ -n "${SWF_SIDECAR_IMAGE_REBUILD:-}" ] || ! buildah_cmd inspect --type image "$tag" >/dev/null 2>&1; then
  echo "building $tag from the Dockerfile" >&2
  started=$(date +%s)
  buildah_cmd bud --quiet --isolation chroot --pull-never \
    --build-arg VERSION="$version" --build-arg REVISION="$revision" -t "$tag" . >&2
  echo "built $tag in $(($(date +%s) - started)) s" >&2
  # Keep storage bounded: earlier builds of other trees go.
  for old in $(buildah_cmd images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/swf-sidecar:ctx-' | grep -v ":ctx-$key\$"); do
    buildah_cmd rmi "$old" >/dev/null 2>&1 || true
  done
fi
printf '%s\n' "$tag"
