/** The values matrix every chart test renders: one case per way the chart is used. */
export const WORKER_IMAGE = { repository: 'registry.example.com/billing/worker', tag: '1.0.0' };

export interface ChartCase {
  readonly name: string;
  /** 'app' (helm/swf-sidecar) or 'example' (helm/examples/my-worker, a user's chart). */
  readonly chart: 'app' | 'example';
  readonly values: Record<string, unknown>;
}

export const MONITORING_ON = {
  podMonitor: { enabled: true },
  prometheusRule: { enabled: true },
  dashboard: { enabled: true },
};

export const CASES: readonly ChartCase[] = [
  { name: 'defaults', chart: 'app', values: { worker: { image: WORKER_IMAGE } } },
  { name: 'example user chart', chart: 'example', values: {} },
  {
    name: 'monitoring on, fleet mode, IRSA',
    chart: 'app',
    values: {
      worker: { image: WORKER_IMAGE },
      serviceAccount: { roleArn: 'arn:aws:iam::123456789012:role/swf-worker' },
      sidecar: {
        monitoring: MONITORING_ON,
        fleet: { redisUrlSecret: { name: 'swf-fleet-redis' } },
        config: { fleetRatePerSecond: 150, fleetBurst: 300, fleetKey: 'swf:eu-west-1:prod' },
      },
    },
  },
  {
    name: 'node agent, unix socket',
    chart: 'app',
    values: { mode: 'nodeAgent', networkPolicy: { enabled: true }, sidecar: { monitoring: MONITORING_ON } },
  },
  {
    name: 'node agent, Service',
    chart: 'app',
    values: { mode: 'nodeAgent', nodeAgent: { transport: 'service' }, networkPolicy: { enabled: true } },
  },
  { name: 'not native', chart: 'app', values: { worker: { image: WORKER_IMAGE }, sidecar: { native: false } } },
  {
    name: 'mutual TLS',
    chart: 'app',
    values: { worker: { image: WORKER_IMAGE }, sidecar: { tls: { secretName: 'swf-sidecar-tls', mutual: true } } },
  },
  {
    name: 'unix socket',
    chart: 'app',
    values: { worker: { image: WORKER_IMAGE }, sidecar: { unixSocket: { enabled: true } } },
  },
  {
    name: 'PVC journal (StatefulSet), PDB',
    chart: 'app',
    values: {
      worker: { image: WORKER_IMAGE, replicas: 3 },
      podDisruptionBudget: { enabled: true },
      sidecar: { journal: { persistence: { enabled: true, storageClassName: 'gp3', size: '2Gi' } } },
    },
  },
  {
    name: 'gRPC probes',
    chart: 'app',
    values: {
      worker: { image: WORKER_IMAGE },
      sidecar: { probes: { type: 'grpc' }, grpc: { listenAllAddresses: true } },
    },
  },
  {
    name: 'monitoring off',
    chart: 'app',
    values: { worker: { image: WORKER_IMAGE }, sidecar: { monitoring: { podMonitor: { enabled: false } } } },
  },
];
