#!/bin/sh
# Fails one Amazon SWF activity task through swf-sidecar.
#
#   fail-task.sh TASK_TOKEN REASON [DETAILS]
#
# Uses the swf-sidecar CLI (the options of 'aws swf respond-activity-task-failed'); the sidecar
# address comes from SWF_SIDECAR_ADDRESS (default 127.0.0.1:50051, or unix:/path).
# With SWF_SIDECAR_CLIENT=grpcurl it sends the same call with grpcurl and jq instead, through the
# sidecar's server reflection (no proto file needed).
#
# Exit codes are the CLI's: 0 reported, 252 bad arguments, 254 the sidecar refused the report
# (retrying cannot help), 255 the sidecar could not be reached (retried here a few times).
set -u

if [ $# -lt 2 ]; then
  echo "usage: $0 TASK_TOKEN REASON [DETAILS]" >&2
  exit 252
fi
token=$1 reason=$2 details=${3-}

with_cli() {
  swf-sidecar respond-activity-task-failed --task-token "$token" --reason "$reason" --details "$details"
}

with_grpcurl() {
  address=${SWF_SIDECAR_ADDRESS:-127.0.0.1:50051}
  case $address in
    unix:*) target="-unix ${address#unix:}" ;;
    *) target=$address ;;
  esac
  # jq builds the JSON, so any text is quoted correctly. grpcurl exits 1 for any failure.
  jq -n --arg t "$token" --arg r "$reason" --arg d "$details" '{taskToken: $t, reason: $r, details: $d}' |
    grpcurl -plaintext -max-time 60 -d @ $target swfsidecar.v1.ActivityTasks/FailActivityTask >/dev/null
}

attempt=1
while :; do
  if [ "${SWF_SIDECAR_CLIENT:-cli}" = grpcurl ]; then with_grpcurl; else with_cli; fi
  code=$?
  # Only "could not reach the sidecar" is worth another try; the sidecar retries SWF itself.
  if [ "$code" -ne 255 ] || [ "$attempt" -ge 4 ]; then exit "$code"; fi
  sleep "$attempt"
  attempt=$((attempt + 1))
done
