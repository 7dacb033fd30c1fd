#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian machine (Debian
# packages when missing, npm packages from the lock file), then lints, type-checks and runs
# every test. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(python3-grpcio python3-boto3 protobuf-compiler protobuf-compiler-grpc ruby-grpc
  prometheus redis-server nghttp2-client openssl)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v moto_server >/dev/null || { echo "moto_server (moto 5.2.1) is required on PATH" >&2; exit 1; }
command -v aws >/dev/null || { echo "the AWS CLI (aws) is required on PATH for the CLI parity test" >&2; exit 1; }

npm ci --no-audit --no-fund
npm run lint
npm run typecheck
npm test
