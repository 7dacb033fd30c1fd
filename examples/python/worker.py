"""An Amazon SWF activity worker that reports failed tasks through swf-sidecar.

It polls SWF for activity tasks with boto3, runs each one, and when the activity raises, reports
the failure to the sidecar (gRPC FailActivityTask) instead of calling RespondActivityTaskFailed
itself: the sidecar validates, queues, rate-limits and retries the call to SWF.

Generate the stubs once, from PyPI (the versions CI runs: requirements-pypi.txt):

    pip install -r requirements-pypi.txt
    python -m grpc_tools.protoc -I ../../proto --python_out=gen --grpc_python_out=gen \
        swfsidecar/v1/sidecar.proto

or from Debian (apt-get install protobuf-compiler protobuf-compiler-grpc python3-grpcio
python3-boto3; CI runs this too):

    protoc -I ../../proto --python_out=gen --grpc_python_out=gen \
        --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
        swfsidecar/v1/sidecar.proto

Run it:

    PYTHONPATH=gen python3 worker.py --domain my-domain --task-list my-activities

The sidecar address comes from SWF_SIDECAR_ADDRESS (default 127.0.0.1:50051, or unix:/path);
boto3 finds SWF with the usual AWS settings (AWS_DEFAULT_REGION, credentials, and
AWS_ENDPOINT_URL_SWF, passed explicitly below for botocore versions that predate it).
"""

import argparse
import enum
import logging
import os
import pathlib
import traceback

import boto3
import botocore.config
import grpc

from swfsidecar.v1 import sidecar_pb2, sidecar_pb2_grpc

# The client retry policy the sidecar's status codes call for (see ../README.md).
RETRY_POLICY = pathlib.Path(__file__).resolve().parent.parent / "grpc-retry-policy.json"

# SWF's limits, counted in UTF-16 code units as SWF counts them.
REASON_MAX = 256
DETAILS_MAX = 32_768

log = logging.getLogger("worker")


def clip(text: str, limit: int, keep_end: bool = False) -> str:
    """Cuts text to at most `limit` UTF-16 code units (an emoji counts 2), keeping its start or end."""
    encoded = text.encode("utf-16-le")
    if len(encoded) <= 2 * limit:
        return text
    kept = encoded[-2 * limit :] if keep_end else encoded[: 2 * limit]
    # "ignore" drops half of a surrogate pair cut at the edge.
    return kept.decode("utf-16-le", errors="ignore")


def sidecar_stub() -> sidecar_pb2_grpc.ActivityTasksStub:
    address = os.environ.get("SWF_SIDECAR_ADDRESS", "127.0.0.1:50051")
    channel = grpc.insecure_channel(
        address,
        options=[
            ("grpc.service_config", RETRY_POLICY.read_text()),
            ("grpc.enable_retries", 1),
        ],
    )
    return sidecar_pb2_grpc.ActivityTasksStub(channel)


class Next(enum.Enum):
    """What the worker should do after a report."""

    DONE = "reported, or nothing left to report"
    RETRY_LATER = "worth another report later (SWF times the task out if nobody reports it)"
    GIVE_UP = "the same report would fail the same way: log it, alert, move on"


def report_failure(stub: sidecar_pb2_grpc.ActivityTasksStub, task_token: str, error: BaseException) -> Next:
    request = sidecar_pb2.FailActivityTaskRequest(
        task_token=task_token,
        reason=clip(f"{type(error).__name__}: {error}", REASON_MAX),
        # The end of a traceback says the most: keep the end if it is too long.
        details=clip("".join(traceback.format_exception(error)), DETAILS_MAX, keep_end=True),
    )
    try:
        # The deadline covers every attempt of the retry policy together.
        response = stub.FailActivityTask(request, timeout=60)
    except grpc.RpcError as rpc_error:
        return on_error(rpc_error)
    log.info(
        "reported: %s after %d SWF call(s)",
        sidecar_pb2.Outcome.Name(response.outcome),
        response.attempts,
    )
    return Next.DONE


def on_error(rpc_error: grpc.RpcError) -> Next:
    """What each status code of FailActivityTask means for the worker (see ../README.md)."""
    code = rpc_error.code()
    what = f"{code.name}: {rpc_error.details()}"
    if code == grpc.StatusCode.NOT_FOUND:
        # SWF no longer knows the task (timed out, canceled, already reported): nothing to do.
        log.warning("task already closed: %s", what)
        return Next.DONE
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        # A bug on this side (a malformed token, a field too long): the same call fails again.
        log.error("could not report the failure, the request is wrong: %s", what)
        return Next.GIVE_UP
    if code == grpc.StatusCode.PERMISSION_DENIED:
        # The sidecar's AWS identity may not call SWF: that needs a person, not a retry.
        log.error("could not report the failure, the sidecar may not call SWF: %s", what)
        return Next.GIVE_UP
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        # The retry policy has already waited as long as the sidecar asked. retry-after-ms means
        # the sidecar's queue was full: try again after that long. Without it SWF's quota, shared
        # by the whole account, stayed exhausted: more calls only add load.
        retry_after = dict(rpc_error.trailing_metadata() or ()).get("retry-after-ms")
        if retry_after is not None:
            log.warning("the sidecar is full, try again in %s ms: %s", retry_after, what)
            return Next.RETRY_LATER
        log.error("could not report the failure, SWF keeps throttling: %s", what)
        return Next.GIVE_UP
    if code == grpc.StatusCode.UNAVAILABLE:
        # Every attempt of the policy failed: the sidecar is down or draining, or SWF is out of
        # reach. Try again later.
        log.warning("could not report the failure yet: %s", what)
        return Next.RETRY_LATER
    if code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        # No answer in time. A report the sidecar accepted is delivered anyway, and a second one
        # is absorbed (the sidecar dedupes task tokens): calling again is safe.
        log.warning("no answer in time, try again: %s", what)
        return Next.RETRY_LATER
    # UNKNOWN, INTERNAL, ...: an answer nobody planned for is not known to be transient.
    log.error("could not report the failure: %s", what)
    return Next.GIVE_UP


def run_activity(task: dict) -> None:
    """The activity itself. This example's always fails, which is what it is here to show."""
    raise RuntimeError(f"cannot process activity {task['activityId']} (input {task.get('input')!r})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", required=True)
    parser.add_argument("--task-list", required=True)
    parser.add_argument("--max-tasks", type=int, default=0, help="stop after this many tasks (0: never)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    # SWF long-polls for up to 60 s: read for longer than that.
    swf = boto3.client(
        "swf",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL_SWF"),
        config=botocore.config.Config(read_timeout=70),
    )
    stub = sidecar_stub()
    handled = 0
    while args.max_tasks == 0 or handled < args.max_tasks:
        task = swf.poll_for_activity_task(domain=args.domain, taskList={"name": args.task_list})
        if not task.get("taskToken"):
            continue  # the poll timed out with no task
        handled += 1
        try:
            run_activity(task)
        except Exception as error:  # noqa: BLE001 - every failure is reported
            next_step = report_failure(stub, task["taskToken"], error)
            # A real worker would keep RETRY_LATER reports and send them again in a while.
            log.info("reported %s as failed: %s", task["activityId"], next_step.name)
        else:
            swf.respond_activity_task_completed(taskToken=task["taskToken"])


if __name__ == "__main__":
    main()
