package io.swfsidecar.examples;

import com.google.gson.Gson;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.swfsidecar.v1.ActivityTasksGrpc;
import io.swfsidecar.v1.FailActivityTaskRequest;
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
 * worker that runs when an activity throws. See ../README.md for how to generate the stubs
 * (protoc's built-in --java_out and the grpc-java plugin) and build it.
 *
 * <p>The sidecar address comes from SWF_SIDECAR_ADDRESS (default 127.0.0.1:50051).
 */
public final class FailTask implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(FailTask.class.getName());
  /** SWF's limits, in UTF-16 code units: Java's String.length(), as SWF counts them. */
  private static final int REASON_MAX = 256;
  private static final int DETAILS_MAX = 32_768;

  private final ManagedChannel channel;
  private final ActivityTasksGrpc.ActivityTasksBlockingStub stub;

  /**
   * Connects with the client retry policy the sidecar's status codes call for
   * (../grpc-retry-policy.json, see ../README.md).
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

  /**
   * Reports the task as failed because of {@code cause}. A task that is no longer open
   * (NOT_FOUND: timed out, canceled) is not an error: there is nothing left to report.
   */
  public void failTask(String taskToken, Throwable cause) {
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
      stub.withDeadlineAfter(60, TimeUnit.SECONDS).failActivityTask(request);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw e;
      }
      LOG.warning("task already closed: " + e.getStatus().getDescription());
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
    try (FailTask reporter = new FailTask(address, policy)) {
      // In a worker, this is the exception the activity threw.
      Exception cause = new IllegalStateException(args.length > 1 ? args[1] : "the example activity failed");
      reporter.failTask(args[0], cause);
    }
  }
}
