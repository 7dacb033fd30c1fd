export const DEFAULT_ENDPOINT = '127.0.0.1:50051';
/** The deadline when --timeout is not given, in seconds: the AWS CLI's default read timeout. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

export function respondHelpText(): string {
  return `Usage: swf-sidecar respond-activity-task-failed [options]

Reports one activity task as failed through a running swf-sidecar (gRPC FailActivityTask), with the
options of 'aws swf respond-activity-task-failed'. Prints nothing on success.

Options of the AWS CLI command:
  --task-token TOKEN            the task token from PollForActivityTask (required unless in JSON)
  --reason TEXT                 why the task failed (at most 256 characters)
  --details TEXT                details of the failure (at most 32,768 characters)
  --cli-input-json JSON         the parameters as JSON ({"taskToken", "reason", "details"}),
                                or file://path; options on the command line override it
  --generate-cli-skeleton       print that JSON's skeleton and send nothing

Options of swf-sidecar:
  --endpoint ADDRESS            the sidecar: HOST:PORT or unix:/path
                                (default: $SWF_SIDECAR_ADDRESS, else ${DEFAULT_ENDPOINT})
  --delivery confirmed|queued   answer after SWF recorded the failure, or once the sidecar
                                accepted it (default: the sidecar's SWF_SIDECAR_DEFAULT_DELIVERY)
  --timeout SECONDS             gRPC deadline of the call, 0 for none (default ${DEFAULT_TIMEOUT_SECONDS})

Exit codes (those of the AWS CLI version 2):
  0    success
  252  bad command syntax, unknown option or invalid parameter (nothing was sent)
  254  the sidecar answered with an error (the gRPC status is printed on stderr)
  255  anything else: the sidecar could not be reached, or no answer before the deadline
`;
}
