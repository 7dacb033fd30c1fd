import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

type HealthClient = Client & {
  check(
    request: { service: string },
    options: { deadline: Date },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
};
type HealthClientConstructor = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options: object,
) => HealthClient;

const HealthConstructor = ((): HealthClientConstructor => {
  const root = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: HealthClientConstructor } } };
  };
  return root.grpc.health.v1.Health;
})();

const POLL_INTERVAL_MS = 5;

/**
 * Polls grpc.health.v1.Health/Check (service "") on `address` every 5 ms until it answers
 * SERVING. The channel's reconnect backoff is cut to 5 ms too, otherwise grpc-js would wait its
 * default 1 s after the refused connections of a server still starting. Resolves with
 * `performance.now()` at the SERVING answer.
 */
export async function waitForServing(address: string, timeoutMs: number): Promise<number> {
  const client = new HealthConstructor(address, credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': POLL_INTERVAL_MS,
    'grpc.max_reconnect_backoff_ms': POLL_INTERVAL_MS,
  });
  const deadlineMs = performance.now() + timeoutMs;
  try {
    for (;;) {
      const status = await new Promise<string>((resolve) => {
        client.check({ service: '' }, { deadline: new Date(Date.now() + 250) }, (error, response) =>
          resolve(error ? `error ${error.code}` : (response?.status ?? 'UNKNOWN')),
        );
      });
      const now = performance.now();
      if (status === 'SERVING') return now;
      if (now > deadlineMs) throw new Error(`${address} not SERVING after ${timeoutMs} ms (last: ${status})`);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  } finally {
    client.close();
  }
}
