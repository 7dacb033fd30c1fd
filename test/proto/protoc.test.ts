/**
 * The published contract compiles with protoc (Debian's protobuf-compiler, protoc 3.21) and the
 * gRPC plugins of protobuf-compiler-grpc, and the generated Python and Ruby stubs load in
 * /usr/bin/python3 (python3-grpcio) and /usr/bin/ruby (ruby-grpc). A syntax or import mistake in
 * proto/ fails here. Missing tools fail the test with the Debian package to install: CI installs
 * them, so nothing here is skipped.
 *
 * Not Debian's python3-grpc-tools: it bundles protoc 3.5, which rejects proto3 `optional`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROTO_FILE, PROTO_ROOT } from '../../src/grpc/contract.js';
import { debianTool } from '../support/debian-tools.js';

function run(file: string, args: readonly string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

describe('protoc compiles proto/', () => {
  let out: string;
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'swf-sidecar-protoc-'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test('protoc is 3.15 or later (proto3 optional)', async () => {
    const version = (await run(debianTool('protoc'), ['--version'])).trim();
    const match = /^libprotoc (\d+)\.(\d+)/.exec(version);
    assert.ok(match, `unexpected protoc --version: ${version}`);
    const [major, minor] = [Number(match[1]), Number(match[2])];
    assert.ok(major > 3 || (major === 3 && minor >= 15), `${version} predates proto3 optional (3.15)`);
  });

  test('generates Python and Ruby gRPC stubs and a descriptor set in one run', async () => {
    await run(debianTool('protoc'), [
      `-I${PROTO_ROOT}`,
      `--python_out=${out}`,
      `--grpc_python_out=${out}`,
      `--plugin=protoc-gen-grpc_python=${debianTool('grpcPython')}`,
      `--ruby_out=${out}`,
      `--grpc_out=${out}`,
      `--plugin=protoc-gen-grpc=${debianTool('grpcRuby')}`,
      `--descriptor_set_out=${join(out, 'sidecar.binpb')}`,
      '--include_imports',
      PROTO_FILE,
    ]);
    for (const file of ['sidecar_pb2.py', 'sidecar_pb2_grpc.py', 'sidecar_pb.rb', 'sidecar_services_pb.rb']) {
      assert.ok(existsSync(join(out, 'swfsidecar', 'v1', file)), `protoc wrote swfsidecar/v1/${file}`);
    }
    assert.ok(readFileSync(join(out, 'sidecar.binpb')).length > 0);
  });

  test('the descriptor set holds the service, its methods and the optional fields', async () => {
    const script = `
import json, sys
from google.protobuf import descriptor_pb2
files = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[1], "rb").read()).file
f = next(f for f in files if f.name == "swfsidecar/v1/sidecar.proto")
request = next(m for m in f.message_type if m.name == "FailActivityTaskRequest")
print(json.dumps({
  "package": f.package,
  "methods": [m.name for s in f.service for m in s.method],
  "optional": sorted(x.name for x in request.field if x.proto3_optional),
}))`;
    const described = JSON.parse(
      await run(debianTool('python'), ['-c', script, join(out, 'sidecar.binpb')]),
    ) as unknown;
    assert.deepEqual(described, {
      package: 'swfsidecar.v1',
      methods: ['FailActivityTask', 'FailActivityTasks'],
      optional: ['details', 'reason'],
    });
  });

  test('the Python stubs load and keep "" apart from absent', async () => {
    const script = `
import sys
sys.path.insert(0, sys.argv[1])
from swfsidecar.v1 import sidecar_pb2, sidecar_pb2_grpc
assert hasattr(sidecar_pb2_grpc, "ActivityTasksStub")
r = sidecar_pb2.FailActivityTaskRequest(task_token="t", reason="")
print(r.HasField("reason"), r.HasField("details"), r.SerializeToString().hex())`;
    assert.equal((await run(debianTool('python'), ['-c', script, out])).trim(), 'True False 0a0174' + '1200');
  });

  test('the Ruby stubs load and keep "" apart from absent', async () => {
    const script = `
require "swfsidecar/v1/sidecar_services_pb"
raise "no stub" unless Swfsidecar::V1::ActivityTasks::Stub.method_defined?(:fail_activity_task)
r = Swfsidecar::V1::FailActivityTaskRequest.new(task_token: "t", reason: "")
puts Swfsidecar::V1::FailActivityTaskRequest.encode(r).unpack1("H*")`;
    assert.equal((await run(debianTool('ruby'), ['-I', out, '-e', script])).trim(), '0a0174' + '1200');
  });
});
