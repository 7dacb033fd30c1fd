#!/bin/sh
# Fails one Amazon SWF activity task through swf-sidecar.
#
#   fail-task.sh TASK_TOKEN REASON [DETAILS]
#
# Uses the swf-sidecar CLI (the options of 'aws swf respond-activity-task-failed'); the sidecar
# address comes from SWF_SIDECAR_ADDRESS (default 127.0.0.1:50051, or unix:/path).
# With SWF_SIDECAR_CLIENT=grpcurl it sends the same call with grpcurl and jq instead, through the
# sidecar's server reflection (no proto file needed):
#
#   grpcurl -plaintext 127.0.0.1:50051 list                                   # the services
#   grpcurl -plaintext 127.0.0.1:50051 describe swfsidecar.v1.ActivityTasks.FailActivityTask
#
# Exit codes are the CLI's: 0 reported, 252 bad arguments, 254 the sidecar refused the report,
# 255 the sidecar could not be reached or did not answer in time (retried here a few times).
# What to do with each gRPC status (the CLI names it on stderr, grpcurl prints "Code: ..."):
#   OK                   reported (SWF recorded it, or the sidecar queued it): done.
#   NOT_FOUND            SWF no longer knows the task (timed out, canceled, already reported): done.
#   INVALID_ARGUMENT     a bug on this side (malformed token, field too long): retrying cannot help.
#   PERMISSION_DENIED    the sidecar's AWS identity may not call SWF: needs a person, not a retry.
#   RESOURCE_EXHAUSTED   "(retry after N ms)": the sidecar's queue is full, try again after N ms;
#                        otherwise SWF's account-wide quota stayed exhausted: do not retry now.
#   UNAVAILABLE          254: the sidecar could not reach SWF, or is draining: try again later.
#                        255: nothing listens yet: retried below.
#   DEADLINE_EXCEEDED    255: no answer within the deadline (60 s). A report the sidecar accepted is
#                        still delivered; calling again is safe (the sidecar dedupes tokens).
# Neither the CLI nor grpcurl reads a gRPC service config: grpc-retry-policy.json does not apply
# here, so this script does its own retrying, of 255 only.
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
  # jq builds the JSON, so any text is quoted correctly. -max-time is the deadline of the whole
  # call, connecting included.
  jq -n --arg t "$token" --arg r "$reason" --arg d "$details" '{taskToken: $t, reason: $r, details: $d}' |
    grpcurl -plaintext -connect-timeout 5 -max-time 60 -d @ $target \
      swfsidecar.v1.ActivityTasks/FailActivityTask >/dev/null
  # grpcurl exits 64 + the gRPC status code when the call failed, 1 when it could not connect (or
  # read the sidecar's reflection), 2 for bad usage: turned into the CLI's codes.
  case $? in
    0) return 0 ;;
    1 | 65 | 68) return 255 ;; # no connection, CANCELLED, DEADLINE_EXCEEDED
    2) return 252 ;;
    *) return 254 ;;
  esac
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
