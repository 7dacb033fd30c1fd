import { pino } from 'pino';
import { startSidecar, type RunningSidecar, type SidecarDeps } from '../../src/app.js';
import { defaultConfig, type SidecarConfig } from '../../src/config.js';
import { connectClient, type ActivityTasksTestClient } from './grpc-client.js';

export interface TestSidecar {
  readonly sidecar: RunningSidecar;
  readonly client: ActivityTasksTestClient;
  /** The Prometheus text of /metrics, fetched over HTTP. */
  metricsText(): Promise<string>;
  /** One sample's value from /metrics, e.g. sample('swf_sidecar_rejections_total{reason="queue_full"}'). */
  sample(series: string): Promise<number>;
  close(): Promise<void>;
}

/** The real sidecar in this process, on loopback port 0, logs silenced unless LOG_LEVEL says otherwise. */
export async function startTestSidecar(overrides: Partial<SidecarConfig>, deps: SidecarDeps): Promise<TestSidecar> {
  const config = defaultConfig({
    address: '127.0.0.1:0',
    metricsAddress: '127.0.0.1:0',
    logLevel: 'silent',
    ...overrides,
  });
  const sidecar = await startSidecar(config, {
    logger: pino({ level: process.env['LOG_LEVEL'] ?? 'silent' }),
    ...deps,
  });
  const client = connectClient(sidecar.grpcAddress);
  const metricsText = async (): Promise<string> => (await fetch(`http://${sidecar.metricsAddress}/metrics`)).text();
  return {
    sidecar,
    client,
    metricsText,
    async sample(series) {
      const line = (await metricsText()).split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    },
    async close() {
      client.close();
      await sidecar.shutdown();
    },
  };
}
