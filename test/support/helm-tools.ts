/**
 * The Helm chart's test tools: helm, kubeconform and yaml2json (built by scripts/setup/20-helm.sh
 * into $SWF_SIDECAR_CACHE), a private copy of helm/ with its library dependency built, rendering
 * with values, and the Kubernetes and Prometheus Operator JSON schemas kubeconform reads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolVariable } from './tool-env.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const HELM_DIR = join(REPO, 'helm');

const SETUP = 'run `source scripts/lib.sh && source scripts/setup/20-helm.sh` (scripts/test.sh does)';

/** A tool's path, as 20-helm.sh exported it (see toolVariable); fails (never skips) when missing. */
export function helmTool(name: 'helm' | 'kubeconform' | 'yaml2json'): string {
  const variable = {
    helm: 'SWF_SIDECAR_HELM',
    kubeconform: 'SWF_SIDECAR_KUBECONFORM',
    yaml2json: 'SWF_SIDECAR_YAML2JSON',
  }[name];
  const path = toolVariable(variable) ?? `$${variable}`;
  assert.ok(existsSync(path), `${name} is missing (${path}): ${SETUP}`);
  return path;
}

/** A directory that 20-helm.sh fills: the Kubernetes OpenAPI documents or the Prometheus Operator CRDs. */
export function helmData(name: 'k8s-openapi' | 'operator-crds'): string {
  const variable = name === 'k8s-openapi' ? 'SWF_SIDECAR_K8S_OPENAPI' : 'SWF_SIDECAR_OPERATOR_CRDS';
  const path = toolVariable(variable) ?? `$${variable}`;
  assert.ok(existsSync(path) && readdirSync(path).length > 0, `${name} is missing (${path}): ${SETUP}`);
  return path;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let workspace: string | undefined;

/**
 * A private copy of helm/ (so concurrent test files never write into the checkout), with
 * `helm dependency build` run for the application chart and the example user chart. Once per process.
 */
export function chartWorkspace(): { app: string; example: string; lib: string; root: string } {
  if (workspace === undefined) {
    const root = mkdtempSync(join(tmpdir(), 'swf-sidecar-helm-'));
    cpSync(HELM_DIR, root, {
      recursive: true,
      filter: (source) => !/[/\\]charts([/\\]|$)/.test(source.slice(HELM_DIR.length)),
    });
    for (const chart of ['swf-sidecar', 'examples/my-worker']) {
      const built = run(helmTool('helm'), ['dependency', 'build', join(root, chart)]);
      assert.equal(built.status, 0, `helm dependency build ${chart}: ${built.stderr}`);
    }
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    workspace = root;
  }
  return {
    root: workspace,
    app: join(workspace, 'swf-sidecar'),
    example: join(workspace, 'examples', 'my-worker'),
    lib: join(workspace, 'swf-sidecar-lib'),
  };
}

/** A rendered Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** Written to a values file and passed with -f. */
  readonly values?: Record<string, unknown>;
}

function templateArgs(chart: string, options: RenderOptions): string[] {
  const args = ['template', options.release ?? 'swf-sidecar', chart, '--namespace', options.namespace ?? 'workers'];
  if (options.values !== undefined) {
    const file = join(mkdtempSync(join(tmpdir(), 'swf-sidecar-values-')), 'values.json');
    writeFileSync(file, JSON.stringify(options.values));
    args.push('-f', file);
  }
  return args;
}

/** `helm template` as YAML text; fails the test with helm's message when rendering fails. */
export function renderYaml(chart: string, options: RenderOptions = {}): string {
  const result = run(helmTool('helm'), templateArgs(chart, options));
  assert.equal(result.status, 0, `helm template failed: ${result.stderr}`);
  return result.stdout;
}

/** `helm template`, parsed as kubectl parses it (duplicate keys are errors). */
export function render(chart: string, options: RenderOptions = {}): K8sObject[] {
  return yamlToJson(renderYaml(chart, options)) as K8sObject[];
}

/** `helm template` that must fail: its message. */
export function renderError(chart: string, options: RenderOptions = {}): string {
  const result = run(helmTool('helm'), templateArgs(chart, options));
  assert.notEqual(result.status, 0, 'helm template succeeded, but should have refused these values');
  return result.stderr;
}

/** Multi-document YAML to an array of documents, through sigs.k8s.io/yaml (strict). */
export function yamlToJson(yaml: string): unknown[] {
  const result = run(helmTool('yaml2json'), [], { input: yaml });
  assert.equal(result.status, 0, `yaml2json: ${result.stderr}`);
  return JSON.parse(result.stdout) as unknown[];
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.find((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  assert.ok(
    found,
    `no ${kind}${name === undefined ? '' : ` ${name}`} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
  );
  return found;
}

/* ---------------------------------------------------------------------------------------------
 * JSON schemas for kubeconform, made from the Kubernetes OpenAPI (swagger) documents and the
 * Prometheus Operator's CRDs the way kubeconform's openapi2jsonschema.py makes them: one file per
 * kind referring to _definitions.json, strict (additionalProperties: false wherever properties
 * are listed, as kubectl's validation), int-or-string and quantities accepting both forms.
 * ------------------------------------------------------------------------------------------- */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function strict(node: Json): Json {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    // A map of schemas keyed by property name is not itself a schema: recurse into its values.
    out[key] = strict(value);
  }
  if ('properties' in out && !('additionalProperties' in out) && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  if (out['format'] === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  return out;
}

const schemaDirs = new Map<string, string>();

/** The kubeconform -schema-location template for one Kubernetes version (e.g. v1.29.6) plus the operator's CRDs. */
export function kubeconformSchemaLocation(k8sVersion: string): string {
  let dir = schemaDirs.get(k8sVersion);
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), `swf-sidecar-k8s-schemas-${k8sVersion}-`));
    process.once('exit', () => rmSync(dir!, { recursive: true, force: true }));
    const swaggerFile = join(helmData('k8s-openapi'), k8sVersion, 'swagger.json');
    assert.ok(existsSync(swaggerFile), `${swaggerFile} is missing: ${SETUP}`);
    const swagger = JSON.parse(readFileSync(swaggerFile, 'utf8')) as {
      definitions: Record<string, { [key: string]: Json }>;
    };
    const definitions: Record<string, Json> = {};
    for (const [name, definition] of Object.entries(swagger.definitions)) {
      definitions[name] =
        name === 'io.k8s.apimachinery.pkg.api.resource.Quantity'
          ? { oneOf: [{ type: 'string' }, { type: 'number' }] }
          : strict(definition);
      const gvks = definition['x-kubernetes-group-version-kind'] as
        { group: string; version: string; kind: string }[] | undefined;
      for (const gvk of gvks ?? []) {
        const group = gvk.group === '' ? '' : `-${gvk.group.split('.')[0]!.toLowerCase()}`;
        writeFileSync(
          join(dir, `${gvk.kind.toLowerCase()}${group}-${gvk.version.toLowerCase()}.json`),
          JSON.stringify({ $ref: `_definitions.json#/definitions/${name}` }),
        );
      }
    }
    writeFileSync(join(dir, '_definitions.json'), JSON.stringify({ definitions }));
    for (const crdFile of readdirSync(helmData('operator-crds'))) {
      for (const crd of yamlToJson(readFileSync(join(helmData('operator-crds'), crdFile), 'utf8')) as {
        kind: string;
        spec: {
          group: string;
          names: { kind: string };
          versions: { name: string; schema: { openAPIV3Schema: Json } }[];
        };
      }[]) {
        if (crd.kind !== 'CustomResourceDefinition') continue;
        for (const version of crd.spec.versions) {
          const name = `${crd.spec.names.kind.toLowerCase()}-${crd.spec.group.split('.')[0]!.toLowerCase()}-${version.name}.json`;
          writeFileSync(join(dir, name), JSON.stringify(strict(version.schema.openAPIV3Schema)));
        }
      }
    }
    mkdirSync(dir, { recursive: true });
    schemaDirs.set(k8sVersion, dir);
  }
  return `${dir}/{{ .ResourceKind }}{{ .KindSuffix }}.json`;
}
