"""An Amazon SWF activity worker that reports failed tasks through swf-sidecar.

It polls SWF for activity tasks with boto3, runs each one, and when the activity raises, reports
the failure to the sidecar (gRPC FailActivityTask) instead of calling RespondActivityTaskFailed
itself: the sidecar validates, queues, rate-limits and retries the call to SWF.

Generate the stubs once (Debian: apt-get install protobuf-compiler protobuf-compiler-grpc
python3-grpcio python3-boto3; or pip install grpcio grpcio-tools boto3 and use
"python -m grpc_tools.protoc" instead of "protoc ... --plugin"):

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


def report_failure(stub: sidecar_pb2_grpc.ActivityTasksStub, task_token: str, error: BaseException) -> None:
    request = sidecar_pb2.FailActivityTaskRequest(
        task_token=task_token,
        reason=clip(f"{type(error).__name__}: {error}", REASON_MAX),
        # The end of a traceback says the most: keep the end if it is too long.
        details=clip("".join(traceback.format_exception(error)), DETAILS_MAX, keep_end=True),
    )
    try:
        stub.FailActivityTask(request, timeout=60)
    except grpc.RpcError as rpc_error:
        code = rpc_error.code()
        if code == grpc.StatusCode.NOT_FOUND:
            # The task is no longer open (timed out, canceled): nothing left to report.
            log.warning("task already closed: %s", rpc_error.details())
        else:
            # INVALID_ARGUMENT is a bug here; the rest came back after the retry policy gave up.
            log.error("could not report the failure: %s %s", code.name, rpc_error.details())


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
            report_failure(stub, task["taskToken"], error)
            log.info("reported %s as failed", task["activityId"])
        else:
            swf.respond_activity_task_completed(taskToken=task["taskToken"])


if __name__ == "__main__":
    main()
