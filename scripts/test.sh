#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian machine (Debian
# packages when missing, npm packages from the lock file, then every scripts/setup/*.sh in order:
# tools and images built once and cached), then lints, type-checks and runs every test. Safe to
# run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

apt_install python3-grpcio python3-boto3 protobuf-compiler protobuf-compiler-grpc ruby-grpc \
  prometheus redis-server nghttp2-client openssl \
  buildah podman runc catatonit mmdebstrap uidmap
command -v moto_server >/dev/null || { echo "moto_server (moto 5.2.1) is required on PATH" >&2; exit 1; }
command -v aws >/dev/null || { echo "the AWS CLI (aws) is required on PATH for the CLI parity test" >&2; exit 1; }

npm ci --no-audit --no-fund
for setup in scripts/setup/*.sh; do
  [ -e "$setup" ] || continue
  echo "setup: $setup"
  source "$setup"
done
# What the setup scripts exported (tool paths), for `npm test` run on its own later.
env | grep '^SWF_SIDECAR_' | sort >"$SWF_SIDECAR_CACHE/test-tools.env"

npm run lint
npm run typecheck
npm test
# The image runs Node.js 24: the whole suite again on that very binary.
echo "npm test on Node.js $("$SWF_SIDECAR_NODE24" --version), the container image's runtime"
PATH="$(dirname "$SWF_SIDECAR_NODE24"):$PATH" npm test
