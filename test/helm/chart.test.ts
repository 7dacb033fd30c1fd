/**
 * The Helm charts, rendered by the real helm over the values matrix: lint, the objects each way
 * of using the chart produces, the values schema's refusals, and the README kept in step.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { SETTINGS } from '../../src/config.js';
import {
  chartWorkspace,
  find,
  helmTool,
  render,
  renderError,
  REPO,
  run,
  yamlToJson,
  type K8sObject,
} from '../support/helm-tools.js';
import { imageEntrypoint } from '../support/image-entrypoint.js';
import { CASES, MONITORING_ON, WORKER_IMAGE } from './cases.js';

interface Container {
  name: string;
  image: string;
  restartPolicy?: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown>;
  startupProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes?: {
    name: string;
    emptyDir?: { sizeLimit?: string; medium?: string };
    hostPath?: { path: string };
    secret?: { secretName: string };
  }[];
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
}

const ws = chartWorkspace();
const chartDir = (chart: 'app' | 'example'): string => (chart === 'app' ? ws.app : ws.example);

function workload(objects: readonly K8sObject[]): K8sObject {
  const found = objects.find((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
  assert.ok(found, 'no workload rendered');
  return found;
}
function podSpec(objects: readonly K8sObject[]): PodSpec {
  return (workload(objects)['spec'] as { template: { spec: PodSpec } }).template.spec;
}
function sidecarOf(spec: PodSpec): Container {
  const sidecar = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === 'swf-sidecar');
  assert.ok(sidecar, 'no swf-sidecar container');
  return sidecar;
}
function envOf(container: Container): Map<string, string | undefined> {
  return new Map((container.env ?? []).map((e) => [e.name, e.value]));
}
const renderApp = (values: Record<string, unknown>): K8sObject[] => render(ws.app, { values });
const withWorker = (values: Record<string, unknown> = {}): Record<string, unknown> => ({
  worker: { image: WORKER_IMAGE },
  ...values,
});

/** The sidecar's values file, parsed. */
const libValues = yamlToJson(readFileSync(join(REPO, 'helm/swf-sidecar-lib/values.yaml'), 'utf8'))[0] as {
  config: Record<string, unknown>;
};
/** Settings the chart sets from its structure rather than from sidecar.config, and the value that does it. */
const DERIVED: Record<string, string> = {
  address: 'sidecar.grpc.port, sidecar.grpc.listenAllAddresses, sidecar.unixSocket.*, nodeAgent.transport',
  metricsAddress: 'sidecar.metrics.port',
  unixSocketMode: 'sidecar.unixSocket.mode',
  tlsCertFile: 'sidecar.tls.secretName',
  tlsKeyFile: 'sidecar.tls.secretName',
  tlsClientCaFile: 'sidecar.tls.mutual',
  journalDir: 'sidecar.journal.enabled, sidecar.journal.persistence.enabled',
  redisUrl: 'sidecar.fleet.redisUrlSecret (a Secret, never a literal)',
};

describe('helm lint --strict', () => {
  for (const { name, chart, values } of CASES) {
    it(name, () => {
      const file = join(ws.root, `lint-${name.replace(/\W+/g, '-')}.json`);
      writeFileSync(file, JSON.stringify(values));
      const result = run(helmTool('helm'), ['lint', '--strict', chartDir(chart), '-f', file]);
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }
  it('the library chart', () => {
    const result = run(helmTool('helm'), ['lint', '--strict', ws.lib]);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  });
});

describe('the rendered sidecar', () => {
  const defaults = renderApp(withWorker());
  const spec = podSpec(defaults);
  const sidecar = sidecarOf(spec);

  it('is a native sidecar by default: an init container with restartPolicy Always, before the worker', () => {
    assert.equal(workload(defaults).kind, 'Deployment');
    assert.deepEqual(
      spec.initContainers?.map((c) => [c.name, c.restartPolicy]),
      [['swf-sidecar', 'Always']],
    );
    assert.deepEqual(
      spec.containers.map((c) => c.name),
      ['worker'],
    );
    assert.deepEqual(sidecar.args, ['serve']);
    assert.equal(sidecar.command, undefined, "the image's ENTRYPOINT runs as built");
    assert.equal(sidecar.image, 'swf-sidecar:0.1.0');
  });

  it("adds sidecar.extraNodeFlags to the image's ENTRYPOINT, before the script", () => {
    const entrypoint = imageEntrypoint();
    const script = entrypoint.at(-1);
    assert.equal(script, '/app/bin/swf-sidecar.js');
    const flagged = sidecarOf(
      podSpec(renderApp(withWorker({ sidecar: { extraNodeFlags: ['--single-threaded-gc'] } }))),
    );
    assert.deepEqual(flagged.command, [...entrypoint.slice(0, -1), '--single-threaded-gc', script]);
    assert.deepEqual(flagged.args, ['serve']);
  });

  it('refuses an extra node flag that is not one flag', () => {
    const file = join(ws.root, 'bad-node-flag.json');
    writeFileSync(file, JSON.stringify(withWorker({ sidecar: { extraNodeFlags: ['--inspect 0.0.0.0'] } })));
    const result = run(helmTool('helm'), ['template', 'x', chartDir('app'), '-f', file]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /extraNodeFlags/);
  });

  it('is a plain container with sidecar.native false', () => {
    const plain = podSpec(renderApp(withWorker({ sidecar: { native: false } })));
    assert.equal(plain.initContainers, undefined);
    assert.deepEqual(
      plain.containers.map((c) => [c.name, c.restartPolicy]),
      [
        ['worker', undefined],
        ['swf-sidecar', undefined],
      ],
    );
  });

  it('is locked down', () => {
    assert.deepEqual(sidecar.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(spec.securityContext, {
      fsGroup: 65532,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('has startup, readiness and liveness probes on /readyz and /healthz, or the gRPC health service', () => {
    assert.deepEqual(sidecar.startupProbe, {
      httpGet: { path: '/readyz', port: 'metrics' },
      periodSeconds: 1,
      failureThreshold: 120,
    });
    assert.deepEqual(sidecar.readinessProbe, {
      httpGet: { path: '/readyz', port: 'metrics' },
      periodSeconds: 5,
      failureThreshold: 2,
    });
    assert.deepEqual(sidecar.livenessProbe, {
      httpGet: { path: '/healthz', port: 'metrics' },
      periodSeconds: 10,
      failureThreshold: 3,
    });
    const grpc = sidecarOf(
      podSpec(renderApp(withWorker({ sidecar: { probes: { type: 'grpc' }, grpc: { listenAllAddresses: true } } }))),
    );
    assert.deepEqual(grpc.readinessProbe?.['grpc'], { port: 50051 });
    assert.deepEqual(grpc.livenessProbe?.['grpc'], { port: 50051 });
    assert.equal(envOf(grpc).get('SWF_SIDECAR_ADDRESS'), '0.0.0.0:50051');
    // The kubelet calls the pod's IP in plaintext: a loopback-only or TLS sidecar cannot pass a gRPC probe.
    assert.match(
      renderError(ws.app, { values: withWorker({ sidecar: { probes: { type: 'grpc' } } }) }),
      /listenAllAddresses/,
    );
  });

  it('computes terminationGracePeriodSeconds from the drain grace: worker stop + ceil(grace) + margin', () => {
    assert.equal(spec.terminationGracePeriodSeconds, 30 + 20 + 5);
    const custom = podSpec(
      renderApp({
        worker: { image: WORKER_IMAGE, stopSeconds: 12 },
        sidecar: { config: { shutdownGraceMs: 45_500 }, shutdown: { marginSeconds: 3 } },
      }),
    );
    assert.equal(custom.terminationGracePeriodSeconds, 12 + 46 + 3);
    assert.equal(envOf(sidecarOf(custom)).get('SWF_SIDECAR_SHUTDOWN_GRACE_MS'), '45500');
  });

  it('gets every SWF_SIDECAR_* setting from a typed value, with the sidecar defaults', () => {
    const env = envOf(sidecar);
    for (const setting of SETTINGS) {
      const key = setting.key as string;
      if (key in DERIVED) continue;
      assert.ok(key in libValues.config, `${setting.env} has no value sidecar.config.${key} (nor a derived one)`);
      const chartDefault = libValues.config[key];
      if (chartDefault === null) {
        assert.equal(env.has(setting.env), false, `${setting.env} is rendered although its value is null`);
        continue;
      }
      assert.equal(chartDefault, setting.default, `sidecar.config.${key} default differs from ${setting.env}'s`);
      if (key.startsWith('fleet')) {
        // Fleet settings are rendered only with the fleet's Redis (see the fleet test).
        assert.equal(env.has(setting.env), false, `${setting.env} is rendered without fleet mode`);
        continue;
      }
      assert.equal(env.get(setting.env), String(setting.default), setting.env);
    }
    for (const key of Object.keys(libValues.config)) {
      assert.ok(
        SETTINGS.some((s) => s.key === key) || key.startsWith('fleet'),
        `sidecar.config.${key} is not a setting of src/config.ts`,
      );
    }
  });

  it('renders a set value as the sidecar reads it (no float notation)', () => {
    const env = envOf(
      sidecarOf(
        podSpec(
          renderApp(
            withWorker({
              sidecar: { config: { ratePerSecond: 12.5, journalMaxBytes: 1_073_741_824, logLevel: 'debug' } },
            }),
          ),
        ),
      ),
    );
    assert.equal(env.get('SWF_SIDECAR_RATE_PER_SECOND'), '12.5');
    assert.equal(env.get('SWF_SIDECAR_JOURNAL_MAX_BYTES'), '1073741824');
    assert.equal(env.get('SWF_SIDECAR_LOG_LEVEL'), 'debug');
  });

  it('derives the addresses and the journal: loopback gRPC, metrics on every address, an emptyDir with a size limit', () => {
    const env = envOf(sidecar);
    assert.equal(env.get('SWF_SIDECAR_ADDRESS'), '127.0.0.1:50051');
    assert.equal(env.get('SWF_SIDECAR_METRICS_ADDRESS'), '0.0.0.0:9464');
    assert.equal(env.get('SWF_SIDECAR_JOURNAL_DIR'), '/var/lib/swf-sidecar');
    assert.deepEqual(spec.volumes, [{ name: 'swf-sidecar-journal', emptyDir: { sizeLimit: '512Mi' } }]);
    assert.deepEqual(sidecar.volumeMounts, [{ name: 'swf-sidecar-journal', mountPath: '/var/lib/swf-sidecar' }]);
    const worker = spec.containers.find((c) => c.name === 'worker')!;
    assert.equal(envOf(worker).get('SWF_SIDECAR_ADDRESS'), '127.0.0.1:50051');
    assert.deepEqual(
      sidecar.ports?.map((p) => [p.name, p.containerPort]),
      [
        ['grpc', 50051],
        ['metrics', 9464],
      ],
    );
  });

  it('has requests and a memory limit (bench/RESULTS.md: 76 MB idle, 232 MB with 50,000 waiting)', () => {
    assert.deepEqual(sidecar.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '320Mi' } });
  });

  it('takes AWS access from the ServiceAccount (IRSA) or an existing Secret, never from literal keys', () => {
    const objects = renderApp(
      withWorker({
        serviceAccount: { roleArn: 'arn:aws:iam::123456789012:role/swf' },
        sidecar: { aws: { region: 'eu-west-1', credentialsSecret: 'aws-keys' } },
      }),
    );
    const account = find(objects, 'ServiceAccount');
    assert.equal(account.metadata.annotations?.['eks.amazonaws.com/role-arn'], 'arn:aws:iam::123456789012:role/swf');
    assert.equal(podSpec(objects).serviceAccountName, account.metadata.name);
    const env = sidecarOf(podSpec(objects)).env ?? [];
    assert.equal(env.find((e) => e.name === 'AWS_REGION')?.value, 'eu-west-1');
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      const entry = env.find((e) => e.name === name);
      assert.deepEqual(entry, { name, valueFrom: { secretKeyRef: { name: 'aws-keys', key: name } } });
    }
  });

  it('takes the fleet limiter Redis URL from an existing Secret, and the fleet settings from typed values', () => {
    const objects = renderApp(CASES.find((c) => c.name.startsWith('monitoring on'))!.values);
    const env = sidecarOf(podSpec(objects)).env ?? [];
    assert.deepEqual(
      env.find((e) => e.name === 'SWF_SIDECAR_REDIS_URL'),
      { name: 'SWF_SIDECAR_REDIS_URL', valueFrom: { secretKeyRef: { name: 'swf-fleet-redis', key: 'redis-url' } } },
    );
    const values = envOf(sidecarOf(podSpec(objects)));
    assert.equal(values.get('SWF_SIDECAR_FLEET_RATE_PER_SECOND'), '150');
    assert.equal(values.get('SWF_SIDECAR_FLEET_BURST'), '300');
    assert.equal(values.get('SWF_SIDECAR_FLEET_KEY'), 'swf:eu-west-1:prod');
    assert.match(
      renderError(ws.app, { values: withWorker({ sidecar: { config: { redisUrl: 'redis://u:p@r:6379' } } }) }),
      /redisUrl/,
    );
  });

  it('serves mutual TLS from a Secret', () => {
    const tls = podSpec(renderApp(withWorker({ sidecar: { tls: { secretName: 'swf-tls', mutual: true } } })));
    const env = envOf(sidecarOf(tls));
    assert.equal(env.get('SWF_SIDECAR_TLS_CERT_FILE'), '/etc/swf-sidecar/tls/tls.crt');
    assert.equal(env.get('SWF_SIDECAR_TLS_KEY_FILE'), '/etc/swf-sidecar/tls/tls.key');
    assert.equal(env.get('SWF_SIDECAR_TLS_CLIENT_CA_FILE'), '/etc/swf-sidecar/tls/ca.crt');
    assert.deepEqual(
      tls.volumes?.find((v) => v.name === 'swf-sidecar-tls'),
      { name: 'swf-sidecar-tls', secret: { secretName: 'swf-tls', defaultMode: 0o440 } },
    );
    const oneWay = envOf(sidecarOf(podSpec(renderApp(withWorker({ sidecar: { tls: { secretName: 'swf-tls' } } })))));
    assert.equal(oneWay.has('SWF_SIDECAR_TLS_CLIENT_CA_FILE'), false);
  });

  it('serves a unix socket on a memory emptyDir shared with the worker', () => {
    const unix = podSpec(renderApp(withWorker({ sidecar: { unixSocket: { enabled: true } } })));
    const env = envOf(sidecarOf(unix));
    assert.equal(env.get('SWF_SIDECAR_ADDRESS'), 'unix:/var/run/swf-sidecar/sidecar.sock');
    assert.equal(env.get('SWF_SIDECAR_UNIX_SOCKET_MODE'), '0660');
    const worker = unix.containers.find((c) => c.name === 'worker')!;
    assert.equal(envOf(worker).get('SWF_SIDECAR_ADDRESS'), 'unix:/var/run/swf-sidecar/sidecar.sock');
    assert.deepEqual(worker.volumeMounts, [{ name: 'swf-sidecar-socket', mountPath: '/var/run/swf-sidecar' }]);
    assert.deepEqual(
      unix.volumes?.find((v) => v.name === 'swf-sidecar-socket'),
      { name: 'swf-sidecar-socket', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    );
    assert.deepEqual(
      sidecarOf(unix).ports?.map((p) => p.name),
      ['metrics'],
    );
  });

  it('keeps the journal on a PersistentVolumeClaim through a StatefulSet', () => {
    const objects = renderApp(CASES.find((c) => c.name.startsWith('PVC'))!.values);
    const set = find(objects, 'StatefulSet');
    const setSpec = set['spec'] as {
      serviceName: string;
      replicas: number;
      volumeClaimTemplates: unknown[];
      template: { spec: PodSpec };
    };
    assert.equal(setSpec.replicas, 3);
    assert.deepEqual(setSpec.volumeClaimTemplates, [
      {
        metadata: { name: 'swf-sidecar-journal' },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', resources: { requests: { storage: '2Gi' } } },
      },
    ]);
    assert.equal(setSpec.template.spec.volumes, undefined, 'no emptyDir journal beside the claim');
    assert.equal(find(objects, 'Service').metadata.name, setSpec.serviceName);
    assert.equal((find(objects, 'Service')['spec'] as { clusterIP: string }).clusterIP, 'None');
    assert.deepEqual((find(objects, 'PodDisruptionBudget')['spec'] as { maxUnavailable: number }).maxUnavailable, 1);
    assert.equal(
      objects.some((o) => o.kind === 'Deployment'),
      false,
    );
  });

  it('the example user chart adds the very same sidecar through the library', () => {
    const example = render(ws.example, { release: 'billing' });
    const exampleSidecar = sidecarOf(podSpec(example));
    const same = sidecarOf(
      podSpec(
        renderApp(
          withWorker({
            sidecar: {
              aws: { region: 'eu-west-1' },
              config: { ratePerSecond: 20, burst: 40, defaultDelivery: 'queued' },
            },
          }),
        ),
      ),
    );
    assert.deepEqual(exampleSidecar, same);
    assert.equal(podSpec(example).terminationGracePeriodSeconds, 55);
    assert.equal(find(example, 'PodMonitor').metadata.name, 'billing-my-worker');
    assert.match(JSON.stringify(find(example, 'PrometheusRule')), /job=\\"workers\/billing-my-worker\\"/);
  });
});

describe('node agent', () => {
  it('runs one sidecar per node on a unix socket in a hostPath directory owned by the socket group', () => {
    const objects = renderApp({ mode: 'nodeAgent', nodeAgent: { socketGroup: 3000 } });
    const set = find(objects, 'DaemonSet');
    const spec = podSpec(objects);
    assert.deepEqual(
      spec.containers.map((c) => [c.name, c.restartPolicy]),
      [['swf-sidecar', undefined]],
    );
    const sidecar = sidecarOf(spec);
    assert.equal(envOf(sidecar).get('SWF_SIDECAR_ADDRESS'), 'unix:/var/run/swf-sidecar/sidecar.sock');
    assert.equal(envOf(sidecar).get('SWF_SIDECAR_UNIX_SOCKET_MODE'), '0660');
    assert.equal(sidecar.securityContext?.['runAsGroup'], 3000);
    assert.deepEqual(
      spec.volumes?.find((v) => v.name === 'swf-sidecar-socket'),
      { name: 'swf-sidecar-socket', hostPath: { path: '/var/run/swf-sidecar', type: 'DirectoryOrCreate' } },
    );
    const prepare = spec.initContainers?.[0];
    assert.equal(prepare?.name, 'socket-directory');
    assert.deepEqual(prepare?.command?.slice(-3), ['/var/run/swf-sidecar', '65532', '3000']);
    assert.deepEqual(prepare?.securityContext?.['capabilities'], { drop: ['ALL'], add: ['CHOWN', 'FOWNER'] });
    assert.equal(spec.terminationGracePeriodSeconds, 20 + 5);
    assert.equal((set.metadata.labels ?? {})['app.kubernetes.io/component'], 'node-agent');
    assert.equal(
      objects.some((o) => o.kind === 'Service'),
      false,
    );
  });

  it('the socket directory step really chowns and chmods (run here with node)', () => {
    const prepare = podSpec(renderApp({ mode: 'nodeAgent' })).initContainers![0]!;
    const dir = run('mktemp', ['-d']).stdout.trim();
    const uid = String(process.getuid?.() ?? 0);
    const result = run(process.execPath, [prepare.command![1]!, prepare.command![2]!, dir, uid, uid]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(run('stat', ['-c', '%a', dir]).stdout.trim(), '750');
  });

  it('or behind a Service with internalTrafficPolicy Local, gRPC on every address, fenced by a NetworkPolicy', () => {
    const objects = renderApp({
      mode: 'nodeAgent',
      nodeAgent: { transport: 'service' },
      networkPolicy: { enabled: true },
    });
    const service = find(objects, 'Service');
    const serviceSpec = service['spec'] as {
      internalTrafficPolicy: string;
      ports: { port: number; targetPort: string }[];
      selector: Record<string, string>;
    };
    assert.equal(serviceSpec.internalTrafficPolicy, 'Local');
    assert.deepEqual(serviceSpec.ports, [{ name: 'grpc', port: 50051, targetPort: 'grpc', protocol: 'TCP' }]);
    const spec = podSpec(objects);
    assert.equal(envOf(sidecarOf(spec)).get('SWF_SIDECAR_ADDRESS'), '0.0.0.0:50051');
    assert.equal(spec.initContainers, undefined);
    const podLabels = (workload(objects)['spec'] as { template: { metadata: { labels: Record<string, string> } } })
      .template.metadata.labels;
    for (const [key, value] of Object.entries(serviceSpec.selector)) assert.equal(podLabels[key], value);
    const policy = find(objects, 'NetworkPolicy')['spec'] as {
      ingress: { ports: { port: string }[]; from: unknown[] }[];
    };
    assert.deepEqual(
      policy.ingress.map((rule) => rule.ports.map((p) => p.port)),
      [['metrics'], ['grpc']],
    );
    assert.deepEqual(policy.ingress[1]!.from, [{ podSelector: { matchLabels: { 'swf-sidecar/client': 'true' } } }]);
  });
});

describe('monitoring objects', () => {
  const on = renderApp(withWorker({ sidecar: { monitoring: MONITORING_ON } }));

  it('a PodMonitor selecting the pods and their metrics port', () => {
    const monitor = find(on, 'PodMonitor')['spec'] as {
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: { port: string; path: string }[];
    };
    const pod = (workload(on)['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template
      .metadata.labels;
    for (const [key, value] of Object.entries(monitor.selector.matchLabels)) assert.equal(pod[key], value);
    assert.deepEqual(monitor.podMetricsEndpoints[0], { port: 'metrics', path: '/metrics', interval: '30s' });
    assert.ok(sidecarOf(podSpec(on)).ports?.some((p) => p.name === 'metrics'));
  });

  it('a PrometheusRule with every alert of the runbook; the fleet alert only in fleet mode', () => {
    const alerts = (rules: K8sObject): string[] =>
      (rules['spec'] as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) =>
        g.rules.map((r) => r.alert),
      );
    const expected = [
      'SwfSidecarDown',
      'SwfSidecarNotReady',
      'SwfSidecarQueueNearlyFull',
      'SwfSidecarReportsUndelivered',
      'SwfSidecarThrottled',
      'SwfSidecarPermissionDenied',
      'SwfSidecarJournalCorruptRecords',
      'SwfSidecarPresumedDeliveredRising',
      'SwfSidecarRejectingReports',
    ];
    assert.deepEqual(alerts(find(on, 'PrometheusRule')), expected);
    const fleet = renderApp(CASES.find((c) => c.name.startsWith('monitoring on'))!.values);
    assert.deepEqual(alerts(find(fleet, 'PrometheusRule')), [...expected, 'SwfSidecarFleetLimiterUnreachable']);
    const readme = readFileSync(join(REPO, 'helm/swf-sidecar/README.md'), 'utf8');
    for (const alert of [...expected, 'SwfSidecarFleetLimiterUnreachable']) {
      assert.ok(readme.includes(`### ${alert}\n`), `the README has no runbook section for ${alert}`);
    }
  });

  it('in fleet mode the throttling threshold is the lower of the local and the fleet rate', () => {
    const rule = (config: Record<string, unknown>): string =>
      JSON.stringify(
        find(
          renderApp(
            withWorker({
              sidecar: { monitoring: MONITORING_ON, fleet: { redisUrlSecret: { name: 'redis' } }, config },
            }),
          ),
          'PrometheusRule',
        ),
      );
    assert.match(
      rule({ ratePerSecond: 200, fleetRatePerSecond: 120 }),
      /swf_sidecar_rate_limit_per_second\{[^}]*\} < 0.9 \* 120/,
    );
    assert.match(
      rule({ ratePerSecond: 50, fleetRatePerSecond: 120 }),
      /swf_sidecar_rate_limit_per_second\{[^}]*\} < 0.9 \* 50/,
    );
  });

  it('the queue and rate thresholds follow the configured bounds', () => {
    const objects = renderApp(
      withWorker({ sidecar: { monitoring: MONITORING_ON, config: { maxQueueItems: 500, ratePerSecond: 40 } } }),
    );
    const text = JSON.stringify(find(objects, 'PrometheusRule'));
    assert.match(text, /swf_sidecar_queue_items\{[^}]*\} > 0.8 \* 500/);
    assert.match(text, /swf_sidecar_rate_limit_per_second\{[^}]*\} < 0.9 \* 40/);
  });

  it('a Grafana dashboard ConfigMap carrying the dashboard sidecar label', () => {
    const map = find(on, 'ConfigMap');
    assert.equal(map.metadata.labels?.['grafana_dashboard'], '1');
    const dashboard = JSON.parse((map['data'] as Record<string, string>)['swf-sidecar.json']!) as {
      panels: { title: string; targets: { expr: string; legendFormat: string }[] }[];
    };
    const titles = dashboard.panels.map((p) => p.title).join('\n');
    for (const wanted of [
      /Intake by status code/,
      /SWF calls by outcome/,
      /latency/,
      /Queue items/,
      /Queue bytes/,
      /Send rate against configured/,
      /Throttled share/,
      /Deliveries by result/,
      /Journal/,
      /CPU/,
      /memory/,
      /Event-loop lag/,
    ]) {
      assert.match(titles, wanted);
    }
    assert.ok(dashboard.panels.some((p) => p.targets.some((t) => t.legendFormat === '{{outcome}}')));
  });

  it('none of them by default, nor when turned off', () => {
    for (const objects of [
      renderApp(withWorker()),
      renderApp(CASES.find((c) => c.name === 'monitoring off')!.values),
    ]) {
      for (const kind of ['PodMonitor', 'PrometheusRule', 'ConfigMap'])
        assert.equal(
          objects.some((o) => o.kind === kind),
          false,
          kind,
        );
    }
  });
});

describe('values.schema.json refuses bad values, naming the value', () => {
  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ['a misspelt top-level key', withWorker({ mdoe: 'worker' }), /additional properties 'mdoe' not allowed/],
    [
      'a misspelt worker key',
      { worker: { image: WORKER_IMAGE, replica: 2 } },
      /at '\/worker': additional properties 'replica' not allowed/,
    ],
    [
      'a misspelt sidecar key',
      withWorker({ sidecar: { confg: {} } }),
      /sidecar:\s*- at '': additional properties 'confg' not allowed/,
    ],
    [
      'a misspelt setting',
      withWorker({ sidecar: { config: { ratePerSec: 5 } } }),
      /at '\/config': additional properties 'ratePerSec' not allowed/,
    ],
    [
      'a wrong type',
      { worker: { image: WORKER_IMAGE, replicas: 'two' } },
      /at '\/worker\/replicas': got string, want integer/,
    ],
    ['a boolean as a string', withWorker({ sidecar: { native: 'yes' } }), /at '\/native': got string, want boolean/],
    [
      'a negative rate',
      withWorker({ sidecar: { config: { ratePerSecond: -5 } } }),
      /at '\/config\/ratePerSecond': exclusiveMinimum: got -5, want 0/,
    ],
    [
      'a fractional burst',
      withWorker({ sidecar: { config: { burst: 1.5 } } }),
      /at '\/config\/burst': got number, want integer/,
    ],
    [
      'an unknown delivery mode',
      withWorker({ sidecar: { config: { defaultDelivery: 'sometimes' } } }),
      /at '\/config\/defaultDelivery': value must be one of/,
    ],
    ['an unknown mode', withWorker({ mode: 'sidecar' }), /at '\/mode': value must be one of/],
    [
      'a port out of range',
      withWorker({ sidecar: { metrics: { port: 70000 } } }),
      /at '\/metrics\/port': maximum: got 70,000, want 65,535/,
    ],
    [
      'an AWS key in the worker env',
      { worker: { image: WORKER_IMAGE, env: [{ name: 'AWS_SECRET_ACCESS_KEY', value: 'x' }] } },
      /at '\/worker\/env\/0\/name'/,
    ],
    [
      'an AWS key in the sidecar env',
      withWorker({ sidecar: { extraEnv: [{ name: 'AWS_ACCESS_KEY_ID', value: 'x' }] } }),
      /at '\/extraEnv\/0\/name'/,
    ],
    ['no worker image', {}, /at '\/worker\/image\/repository': minLength: got 0, want 1/],
  ];
  for (const [name, values, message] of refusals) {
    it(name, () => {
      const error = renderError(ws.app, { values });
      assert.match(error, /values don't meet the specifications of the schema/);
      assert.match(error, message);
    });
  }
});

describe('README', () => {
  const readme = readFileSync(join(REPO, 'helm/swf-sidecar/README.md'), 'utf8');

  /** Leaf keys of a values schema: properties without properties of their own. */
  function leaves(schema: { properties?: Record<string, unknown> }, prefix: string): string[] {
    return Object.entries(schema.properties ?? {}).flatMap(([key, child]) => {
      if (key === 'global' || (prefix === '' && key === 'sidecar')) return [];
      const sub = child as { properties?: Record<string, unknown> };
      return sub.properties === undefined ? [`${prefix}${key}`] : leaves(sub, `${prefix}${key}.`);
    });
  }
  const appSchema = JSON.parse(readFileSync(join(REPO, 'helm/swf-sidecar/values.schema.json'), 'utf8')) as {
    properties: Record<string, unknown>;
  };
  const libSchema = JSON.parse(readFileSync(join(REPO, 'helm/swf-sidecar-lib/values.schema.json'), 'utf8')) as {
    properties: Record<string, unknown>;
  };
  const keys = [...leaves(appSchema, ''), ...leaves(libSchema, 'sidecar.')];
  const appValues = yamlToJson(readFileSync(join(REPO, 'helm/swf-sidecar/values.yaml'), 'utf8'))[0] as Record<
    string,
    unknown
  >;
  const defaults: Record<string, unknown> = { ...appValues, sidecar: libValues };
  const rows = new Map(
    readme
      .split('\n')
      .filter((line) => /^\| `[^`]+` \|/.test(line))
      .map((line) => [line.split('`')[1]!, line.split('|')[2]!.trim()]),
  );

  it('has a values table row for every key of the schemas, and none other', () => {
    const tableKeys = [...rows.keys()].filter((key) => !key.startsWith('SWF_SIDECAR_') && !key.startsWith('Swf'));
    assert.deepEqual(tableKeys.sort(), [...keys].sort());
  });

  it('shows each value`s default as values.yaml has it', () => {
    for (const key of keys) {
      const value = key
        .split('.')
        .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], defaults);
      assert.equal(rows.get(key), `\`${JSON.stringify(value)}\``, `default of ${key}`);
    }
  });

  it('maps every SWF_SIDECAR_* setting to its chart value', () => {
    for (const setting of SETTINGS) {
      const key = setting.key as string;
      const row =
        key in DERIVED
          ? readme.split('\n').find((line) => line.startsWith('| `SWF_SIDECAR_') && line.includes(`\`${setting.env}\``))
          : readme.split('\n').find((line) => line.startsWith(`| \`sidecar.config.${key}\` |`));
      assert.ok(row, `no chart README row for ${setting.env}`);
      assert.ok(row.includes(setting.env), `the row of ${setting.env} does not name it: ${row}`);
    }
  });
});

describe('NOTES.txt', () => {
  it('tells where the sidecar is, the grace period and the journal', () => {
    // `helm install --dry-run` wants a cluster; render NOTES.txt through tpl in a copy of the chart instead.
    const copy = mkdtempSync(join(tmpdir(), 'swf-sidecar-notes-'));
    cpSync(ws.app, copy, { recursive: true });
    cpSync(join(copy, 'templates', 'NOTES.txt'), join(copy, 'notes.txt'));
    writeFileSync(
      join(copy, 'templates', 'render-notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: notes }\ndata:\n  notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n',
    );
    const notes = (
      find(render(copy, { release: 'billing', values: withWorker() }), 'ConfigMap', 'notes')['data'] as {
        notes: string;
      }
    ).notes;
    rmSync(copy, { recursive: true, force: true });
    assert.match(notes, /SWF_SIDECAR_ADDRESS=127\.0\.0\.1:50051/);
    assert.match(notes, /Pods get 55 s to stop/);
    assert.match(notes, /an emptyDir of 512Mi \(survives container restarts, not pod deletion\)/);
    assert.match(notes, /helm test billing -n workers/);
  });
});
