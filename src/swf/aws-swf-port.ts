import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { RespondActivityTaskFailedCommand, SWFClient } from '@aws-sdk/client-swf';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { FailureReport } from '../delivery/failure-report.js';
import { classifySwfError } from './classify-swf-error.js';
import type { SendResult, SwfPort } from './swf-port.js';

export interface AwsSwfPortOptions {
  /** Cancels a call that has not answered in this long (connect included). */
  readonly requestTimeoutMs: number;
  /** Keep-alive sockets to SWF; matches the dispatcher's in-flight bound. */
  readonly maxSockets: number;
}

/**
 * The only file that knows the AWS SDK. Region, endpoint (AWS_ENDPOINT_URL_SWF) and credentials
 * (env, profile, IRSA, Pod Identity) come from the SDK's own default chains. The SDK's retries
 * are off (maxAttempts 1): the dispatcher owns retries, so they are not stacked.
 */
export class AwsSwfPort implements SwfPort {
  private readonly client: SWFClient;

  constructor(private readonly options: AwsSwfPortOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.client = new SWFClient({
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new Agent(agentOptions),
        connectionTimeout: options.requestTimeoutMs,
        requestTimeout: options.requestTimeoutMs,
        throwOnRequestTimeout: true,
      }),
    });
  }

  async send(report: FailureReport, signal: AbortSignal): Promise<SendResult> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const command = new RespondActivityTaskFailedCommand({
      taskToken: report.taskToken,
      ...(report.reason === undefined ? {} : { reason: report.reason }),
      ...(report.details === undefined ? {} : { details: report.details }),
    });
    try {
      const output = await this.client.send(command, { abortSignal: AbortSignal.any([signal, timeout]) });
      return { kind: 'delivered', requestId: output.$metadata.requestId };
    } catch (error) {
      if (timeout.aborted && !signal.aborted) {
        return {
          kind: 'retryable',
          reason: 'transient',
          outcomeUnknown: true,
          message: `no answer from SWF within ${this.options.requestTimeoutMs} ms (request cancelled)`,
        };
      }
      return classifySwfError(error);
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
