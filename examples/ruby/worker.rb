# Reports failed Amazon SWF activity tasks through swf-sidecar (gRPC FailActivityTask).
#
# Your poller (aws-sdk-swf's poll_for_activity_task, or anything else) hands each task to
# `work_on`; when the activity raises, the failure goes to the sidecar, which validates, queues,
# rate-limits and retries the RespondActivityTaskFailed call to SWF.
#
# Generate the stubs once (Debian: apt-get install protobuf-compiler protobuf-compiler-grpc
# ruby-grpc; or gem install grpc grpc-tools and use grpc_tools_ruby_protoc):
#
#   protoc -I ../../proto --ruby_out=gen --grpc_out=gen \
#     --plugin=protoc-gen-grpc="$(command -v grpc_ruby_plugin)" swfsidecar/v1/sidecar.proto
#
# Run it as a demo that fails every task whose token arrives on stdin, one per line:
#
#   ruby -I gen worker.rb < tokens.txt
#
# The sidecar address comes from SWF_SIDECAR_ADDRESS (default 127.0.0.1:50051, or unix:/path).

require 'grpc'
require 'logger'
require 'swfsidecar/v1/sidecar_services_pb'

class SidecarReporter
  # The client retry policy the sidecar's status codes call for (see ../README.md).
  RETRY_POLICY = File.expand_path('../grpc-retry-policy.json', __dir__)
  # SWF's limits, counted in UTF-16 code units as SWF counts them.
  REASON_MAX = 256
  DETAILS_MAX = 32_768

  def initialize(address: ENV.fetch('SWF_SIDECAR_ADDRESS', '127.0.0.1:50051'), logger: Logger.new($stderr))
    @logger = logger
    @stub = Swfsidecar::V1::ActivityTasks::Stub.new(
      address, :this_channel_is_insecure,
      channel_args: { 'grpc.service_config' => File.read(RETRY_POLICY), 'grpc.enable_retries' => 1 }
    )
  end

  def fail_task(task_token, error)
    request = Swfsidecar::V1::FailActivityTaskRequest.new(
      task_token: task_token,
      reason: clip("#{error.class}: #{error.message}", REASON_MAX),
      # The end of a backtrace says the most: keep the end if it is too long.
      details: clip(error.full_message(highlight: false), DETAILS_MAX, keep_end: true)
    )
    @stub.fail_activity_task(request, deadline: Time.now + 60)
  rescue GRPC::NotFound => e
    # The task is no longer open (timed out, canceled): nothing left to report.
    @logger.warn("task already closed: #{e.details}")
  rescue GRPC::BadStatus => e
    # INVALID_ARGUMENT is a bug here; the rest came back after the retry policy gave up.
    @logger.error("could not report the failure: #{e.code} #{e.details}")
  end

  private

  # Cuts text to at most `limit` UTF-16 code units (an emoji counts 2), keeping its start or end.
  def clip(text, limit, keep_end: false)
    utf16 = text.encode('UTF-16LE')
    return text if utf16.bytesize <= 2 * limit

    kept = keep_end ? utf16.byteslice(-2 * limit, 2 * limit) : utf16.byteslice(0, 2 * limit)
    # scrub drops half of a surrogate pair cut at the edge.
    kept.scrub('').encode('UTF-8')
  end
end

# The activity itself. This example's always fails, which is what it is here to show.
def work_on(task_token)
  raise ArgumentError, "cannot process the task ending #{task_token[-8..]}"
end

if $PROGRAM_NAME == __FILE__
  reporter = SidecarReporter.new
  $stdin.each_line(chomp: true) do |task_token|
    next if task_token.empty?

    begin
      work_on(task_token)
    rescue StandardError => e
      reporter.fail_task(task_token, e)
    end
  end
end
