/**
 * Every object the chart renders, validated offline by kubeconform against the Kubernetes OpenAPI
 * schemas of the oldest version with native sidecars (1.29) and the newest release, strictly (an
 * unknown field is an error), and the PodMonitor and PrometheusRule against the Prometheus
 * Operator's CRDs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
  chartWorkspace,
  helmData,
  helmTool,
  kubeconformSchemaLocation,
  renderYaml,
  run,
} from '../support/helm-tools.js';
import { CASES } from './cases.js';

interface KubeconformResource {
  filename: string;
  kind: string;
  name: string;
  version: string;
  status: string;
  msg: string;
}

const ws = chartWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-kubeconform-'));
const versions = readdirSync(helmData('k8s-openapi')).sort();

function kubeconform(
  k8sVersion: string,
  file: string,
): { status: number | null; resources: KubeconformResource[]; stderr: string } {
  const result = run(helmTool('kubeconform'), [
    '-strict',
    '-summary',
    '-verbose',
    '-output',
    'json',
    '-schema-location',
    kubeconformSchemaLocation(k8sVersion),
    file,
  ]);
  const parsed = JSON.parse(result.stdout || '{"resources":[]}') as { resources: KubeconformResource[] | null };
  return { status: result.status, resources: parsed.resources ?? [], stderr: result.stderr };
}

describe('Kubernetes schemas (kubeconform)', () => {
  it('has the OpenAPI documents of 1.29 and of a newer minor version', () => {
    assert.ok(
      versions.some((v) => v.startsWith('v1.29.')),
      `no v1.29.x among ${versions.join(', ')}`,
    );
    assert.ok(
      versions.some((v) => Number(v.split('.')[1]) > 29),
      `no newer version among ${versions.join(', ')}`,
    );
  });

  for (const version of versions) {
    for (const { name, chart, values } of CASES) {
      it(`${name}: every object is valid for Kubernetes ${version}`, () => {
        const file = join(dir, `${version}-${name.replace(/\W+/g, '-')}.yaml`);
        writeFileSync(file, renderYaml(chart === 'app' ? ws.app : ws.example, { values }));
        const { status, resources, stderr } = kubeconform(version, file);
        const problems = resources.filter((r) => r.status !== 'statusValid');
        assert.deepEqual(
          problems.map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`),
          [],
          stderr,
        );
        assert.equal(status, 0, stderr);
        assert.ok(resources.length >= 2, `kubeconform checked only ${resources.length} objects`);
        if (name.startsWith('monitoring on')) {
          assert.deepEqual(
            resources
              .map((r) => r.kind)
              .filter((kind) => ['PodMonitor', 'PrometheusRule'].includes(kind))
              .sort(),
            ['PodMonitor', 'PrometheusRule'],
          );
        }
      });
    }
  }

  it('refuses an unknown field, a wrong type and a bad CRD object (the check can fail)', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec:\n  containers: [{ name: a, image: a, restartPolcy: Always }]\n',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: b }\nspec:\n  replicas: "two"\n  selector: { matchLabels: { a: b } }\n  template: { metadata: { labels: { a: b } }, spec: { containers: [{ name: a, image: a }] } }\n',
        'apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: { name: c }\nspec:\n  podMetricsEndpoints: [{ port: metrics, intervall: 30s }]\n  selector: {}\n',
      ].join('---\n'),
    );
    const { status, resources } = kubeconform(versions[0]!, file);
    assert.notEqual(status, 0);
    assert.deepEqual(resources.map((r) => `${r.kind} ${r.status}`).sort(), [
      'Deployment statusInvalid',
      'Pod statusInvalid',
      'PodMonitor statusInvalid',
    ]);
    assert.match(resources.find((r) => r.kind === 'Pod')!.msg, /restartPolcy/);
    assert.match(resources.find((r) => r.kind === 'PodMonitor')!.msg, /intervall/);
  });
});
