import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

/** Tools the cross-language tests run, and the Debian package each comes from (scripts/test.sh installs them). */
const TOOLS = {
  protoc: ['/usr/bin/protoc', 'protobuf-compiler'],
  grpcPython: ['/usr/bin/grpc_python_plugin', 'protobuf-compiler-grpc'],
  grpcRuby: ['/usr/bin/grpc_ruby_plugin', 'protobuf-compiler-grpc'],
  python: ['/usr/bin/python3', 'python3-grpcio python3-boto3'],
  ruby: ['/usr/bin/ruby', 'ruby-grpc'],
  jq: ['/usr/bin/jq', 'jq'],
} as const;

/** The tool's path; fails the test (never skips it) when the package is missing. */
export function debianTool(name: keyof typeof TOOLS): string {
  const [path, pkg] = TOOLS[name];
  assert.ok(existsSync(path), `${path} is missing: apt-get install -y ${pkg}`);
  return path;
}
