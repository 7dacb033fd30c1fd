package io.swfsidecar.examples;

import com.google.gson.Gson;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.swfsidecar.v1.ActivityTasksGrpc;
import io.swfsidecar.v1.FailActivityTaskRequest;
import io.swfsidecar.v1.FailActivityTaskResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Reports failed Amazon SWF activity tasks through swf-sidecar: the part of a Java activity
 * worker that runs when an activity throws. Build and run it from examples/java (pom.xml generates
 * the stubs from ../../proto):
 *
 * <pre>
 *   mvn -B package
 *   java -jar target/swf-sidecar-java-example.jar "$TOKEN" "disk full"
 * </pre>
 *
 * <p>The sidecar address comes from SWF_SIDECAR_ADDRESS (default 127.0.0.1:50051); the retry
 * policy from the system property retryPolicy (default ../grpc-retry-policy.json). Exit code: 0
 * reported (or the task was already closed), 75 try again later, 1 retrying cannot help.
 */
public final class FailTask implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(FailTask.class.getName());
  /** SWF's limits, in UTF-16 code units: Java's String.length(), as SWF counts them. */
  private static final int REASON_MAX = 256;
  private static final int DETAILS_MAX = 32_768;
  /** Set by the sidecar with RESOURCE_EXHAUSTED when its queue is full. */
  private static final Metadata.Key<String> RETRY_AFTER_MS =
      Metadata.Key.of("retry-after-ms", Metadata.ASCII_STRING_MARSHALLER);

  /** What the worker should do after a report. */
  public enum Next {
    /** Reported, or there is nothing left to report. */
    DONE,
    /** Worth another report later (SWF times the task out if nobody reports it). */
    RETRY_LATER,
    /** The same report would fail the same way: log it, alert, move on. */
    GIVE_UP
  }

  private final ManagedChannel channel;
  private final ActivityTasksGrpc.ActivityTasksBlockingStub stub;

  /**
   * Connects with the client retry policy the sidecar's status codes call for
   * (../grpc-retry-policy.json, see ../README.md): waitForReady, a 60 s timeout, and retries of
   * UNAVAILABLE and RESOURCE_EXHAUSTED that honour the sidecar's grpc-retry-pushback-ms.
   */
  public FailTask(String address, String serviceConfigJson) {
    @SuppressWarnings("unchecked")
    Map<String, ?> serviceConfig = new Gson().fromJson(serviceConfigJson, Map.class);
    channel =
        ManagedChannelBuilder.forTarget(address)
            .usePlaintext()
            .defaultServiceConfig(serviceConfig)
            .enableRetry()
            .build();
    stub = ActivityTasksGrpc.newBlockingStub(channel);
  }

  /** Reports the task as failed because of {@code cause}, and says what to do next. */
  public Next failTask(String taskToken, Throwable cause) {
    StringWriter trace = new StringWriter();
    cause.printStackTrace(new PrintWriter(trace));
    FailActivityTaskRequest request =
        FailActivityTaskRequest.newBuilder()
            .setTaskToken(taskToken)
            .setReason(clipStart(cause.getClass().getSimpleName() + ": " + cause.getMessage(), REASON_MAX))
            // The end of a stack trace with its causes says the most: keep the end if too long.
            .setDetails(clipEnd(trace.toString(), DETAILS_MAX))
            .build();
    try {
      // The deadline covers every attempt of the retry policy together.
      FailActivityTaskResponse response =
          stub.withDeadlineAfter(60, TimeUnit.SECONDS).failActivityTask(request);
      LOG.info("reported: " + response.getOutcome() + " after " + response.getAttempts() + " SWF call(s)");
      return Next.DONE;
    } catch (StatusRuntimeException e) {
      return onError(e);
    }
  }

  /** What each status code of FailActivityTask means for the worker (see ../README.md). */
  static Next onError(StatusRuntimeException e) {
    Status status = e.getStatus();
    String what = status.getCode() + ": " + status.getDescription();
    switch (status.getCode()) {
      case NOT_FOUND:
        // SWF no longer knows the task (timed out, canceled, already reported): nothing to do.
        LOG.warning("task already closed: " + what);
        return Next.DONE;
      case INVALID_ARGUMENT:
        // A bug on this side (a malformed token, a field too long): the same call fails again.
        LOG.severe("could not report the failure, the request is wrong: " + what);
        return Next.GIVE_UP;
      case PERMISSION_DENIED:
        // The sidecar's AWS identity may not call SWF: that needs a person, not a retry.
        LOG.severe("could not report the failure, the sidecar may not call SWF: " + what);
        return Next.GIVE_UP;
      case RESOURCE_EXHAUSTED:
        {
          // The retry policy has already waited as long as the sidecar asked. retry-after-ms
          // means the sidecar's queue was full: try again after that long. Without it SWF's
          // quota, shared by the whole account, stayed exhausted: more calls only add load.
          Metadata trailers = e.getTrailers();
          String retryAfter = trailers == null ? null : trailers.get(RETRY_AFTER_MS);
          if (retryAfter != null) {
            LOG.warning("the sidecar is full, try again in " + retryAfter + " ms: " + what);
            return Next.RETRY_LATER;
          }
          LOG.severe("could not report the failure, SWF keeps throttling: " + what);
          return Next.GIVE_UP;
        }
      case UNAVAILABLE:
        // Every attempt of the policy failed: the sidecar is down or draining, or SWF is out of
        // reach. Try again later.
        LOG.warning("could not report the failure yet: " + what);
        return Next.RETRY_LATER;
      case DEADLINE_EXCEEDED:
      case CANCELLED:
        // No answer in time. A report the sidecar accepted is delivered anyway, and a second
        // one is absorbed (the sidecar dedupes task tokens): calling again is safe.
        LOG.warning("no answer in time, try again: " + what);
        return Next.RETRY_LATER;
      default:
        // UNKNOWN, INTERNAL, ...: an answer nobody planned for is not known to be transient.
        LOG.severe("could not report the failure: " + what);
        return Next.GIVE_UP;
    }
  }

  private static String clipStart(String text, int limit) {
    if (text.length() <= limit) {
      return text;
    }
    int end = Character.isHighSurrogate(text.charAt(limit - 1)) ? limit - 1 : limit;
    return text.substring(0, end);
  }

  private static String clipEnd(String text, int limit) {
    if (text.length() <= limit) {
      return text;
    }
    int start = text.length() - limit;
    return text.substring(Character.isLowSurrogate(text.charAt(start)) ? start + 1 : start);
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Fails the task whose token is the first argument, as an activity that threw would. */
  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: FailTask TASK_TOKEN [REASON]");
      System.exit(2);
    }
    String address = System.getenv().getOrDefault("SWF_SIDECAR_ADDRESS", "127.0.0.1:50051");
    String policy = Files.readString(Path.of(System.getProperty("retryPolicy", "../grpc-retry-policy.json")));
    Next next;
    try (FailTask reporter = new FailTask(address, policy)) {
      // In a worker, this is the exception the activity threw.
      Exception cause = new IllegalStateException(args.length > 1 ? args[1] : "the example activity failed");
      next = reporter.failTask(args[0], cause);
    }
    System.exit(next == Next.DONE ? 0 : next == Next.RETRY_LATER ? 75 : 1);
  }
}
