import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toolVariable } from './tool-env.js';

/**
 * The pinned toolchains scripts/setup/30-examples.sh installs (scripts/test.sh sources it), read
 * from the variables it exports. A missing one fails the test with the command that installs it.
 */
const SETUP = 'source scripts/lib.sh && source scripts/setup/30-examples.sh (scripts/test.sh does both)';

function fromEnv(variable: string): string {
  const value = toolVariable(variable);
  assert.ok(value, `${variable} is not set: run ${SETUP}`);
  return value;
}

function existing(path: string, variable: string): string {
  assert.ok(existsSync(path), `${path} (from ${variable}) is missing: run ${SETUP}`);
  return path;
}

/** The go command. */
export function goTool(): string {
  return existing(fromEnv('SWF_SIDECAR_GO'), 'SWF_SIDECAR_GO');
}

/** protoc-gen-go, protoc-gen-go-grpc or grpcurl, built at their pinned versions. */
export function goBinary(name: 'protoc-gen-go' | 'protoc-gen-go-grpc' | 'grpcurl'): string {
  return existing(join(fromEnv('SWF_SIDECAR_GO_BIN'), name), 'SWF_SIDECAR_GO_BIN');
}

/** Maven's mvn. */
export function mavenTool(): string {
  return existing(fromEnv('SWF_SIDECAR_MVN'), 'SWF_SIDECAR_MVN');
}

/** The python of a venv holding examples/python/requirements-pypi.txt (grpcio from PyPI). */
export function pypiPython(): string {
  return existing(fromEnv('SWF_SIDECAR_PYPI_PYTHON'), 'SWF_SIDECAR_PYPI_PYTHON');
}
