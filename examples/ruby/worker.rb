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

  # Reports the task as failed because of error, and says what to do next: :done (reported, or
  # nothing left to report), :retry_later (worth another report later; SWF times the task out if
  # nobody reports it) or :give_up (the same report would fail the same way: log, alert, move on).
  def fail_task(task_token, error)
    request = Swfsidecar::V1::FailActivityTaskRequest.new(
      task_token: task_token,
      reason: clip("#{error.class}: #{error.message}", REASON_MAX),
      # The end of a backtrace says the most: keep the end if it is too long.
      details: clip(error.full_message(highlight: false), DETAILS_MAX, keep_end: true)
    )
    # The deadline covers every attempt of the retry policy together.
    response = @stub.fail_activity_task(request, deadline: Time.now + 60)
    @logger.info("reported: #{response.outcome} after #{response.attempts} SWF call(s)")
    :done
  rescue GRPC::BadStatus => e
    on_error(e)
  end

  # What each status code of FailActivityTask means for the worker (see ../README.md).
  def on_error(error)
    what = "#{error.class.name.split('::').last}: #{error.details}"
    case error
    when GRPC::NotFound
      # SWF no longer knows the task (timed out, canceled, already reported): nothing to do.
      @logger.warn("task already closed: #{what}")
      :done
    when GRPC::InvalidArgument
      # A bug on this side (a malformed token, a field too long): the same call fails again.
      @logger.error("could not report the failure, the request is wrong: #{what}")
      :give_up
    when GRPC::PermissionDenied
      # The sidecar's AWS identity may not call SWF: that needs a person, not a retry.
      @logger.error("could not report the failure, the sidecar may not call SWF: #{what}")
      :give_up
    when GRPC::ResourceExhausted
      # The retry policy has already waited as long as the sidecar asked. retry-after-ms means the
      # sidecar's queue was full: try again after that long. Without it SWF's quota, shared by the
      # whole account, stayed exhausted: more calls only add load.
      retry_after = error.metadata['retry-after-ms']
      if retry_after
        @logger.warn("the sidecar is full, try again in #{retry_after} ms: #{what}")
        :retry_later
      else
        @logger.error("could not report the failure, SWF keeps throttling: #{what}")
        :give_up
      end
    when GRPC::Unavailable
      # Every attempt of the policy failed: the sidecar is down or draining, or SWF is out of
      # reach. Try again later.
      @logger.warn("could not report the failure yet: #{what}")
      :retry_later
    when GRPC::DeadlineExceeded, GRPC::Cancelled
      # No answer in time. A report the sidecar accepted is delivered anyway, and a second one is
      # absorbed (the sidecar dedupes task tokens): calling again is safe.
      @logger.warn("no answer in time, try again: #{what}")
      :retry_later
    else
      # Unknown, Internal, ...: an answer nobody planned for is not known to be transient.
      @logger.error("could not report the failure: #{what}")
      :give_up
    end
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
