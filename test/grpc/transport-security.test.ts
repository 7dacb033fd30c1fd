import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { connectClient } from '../support/grpc-client.js';
import { startTestSidecar } from '../support/in-process-sidecar.js';
import { DELIVERED, ScriptedSwf } from '../support/scripted-swf.js';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl for this test. */
async function makeCertificates(directory: string): Promise<Record<string, string>> {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: directory, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca');
  for (const [name, extension] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    await writeFile(join(directory, `${name}.ext`), `${extension}\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
  return Object.fromEntries(
    ['ca.pem', 'server.pem', 'server.key', 'client.pem', 'client.key'].map((file) => [file, join(directory, file)]),
  );
}

describe('who may call: TLS, mutual TLS and unix sockets', () => {
  let directory: string;
  let files: Record<string, string>;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'swf-sidecar-tls-'));
    files = await makeCertificates(directory);
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('TLS: a client trusting the CA is served; a plaintext client is not', async () => {
    const sidecar = await startTestSidecar(
      { tlsCertFile: files['server.pem']!, tlsKeyFile: files['server.key']! },
      { swf: new ScriptedSwf(() => DELIVERED) },
    );
    const tls = connectClient(sidecar.sidecar.grpcAddress, credentials.createSsl(await readFile(files['ca.pem']!)));
    try {
      assert.deepEqual(await tls.fail({ taskToken: 'tls-1' }), { outcome: 'OUTCOME_DELIVERED', attempts: 1 });
      const plain = await sidecar.client.failError({ taskToken: 'plain-1' }, { deadlineMs: 2_000 });
      assert.ok([status.UNAVAILABLE, status.DEADLINE_EXCEEDED].includes(plain.code), `plaintext got ${plain.code}`);
    } finally {
      tls.close();
      await sidecar.close();
    }
  });

  it('mutual TLS: a client without a certificate signed by the client CA is refused', async () => {
    const sidecar = await startTestSidecar(
      { tlsCertFile: files['server.pem']!, tlsKeyFile: files['server.key']!, tlsClientCaFile: files['ca.pem']! },
      { swf: new ScriptedSwf(() => DELIVERED) },
    );
    const ca = await readFile(files['ca.pem']!);
    const withCert = connectClient(
      sidecar.sidecar.grpcAddress,
      credentials.createSsl(ca, await readFile(files['client.key']!), await readFile(files['client.pem']!)),
    );
    const withoutCert = connectClient(sidecar.sidecar.grpcAddress, credentials.createSsl(ca));
    try {
      assert.deepEqual(await withCert.fail({ taskToken: 'mtls-1' }), { outcome: 'OUTCOME_DELIVERED', attempts: 1 });
      const refused = await withoutCert.failError({ taskToken: 'mtls-2' }, { deadlineMs: 2_000 });
      assert.equal(refused.code, status.UNAVAILABLE);
    } finally {
      withCert.close();
      withoutCert.close();
      await sidecar.close();
    }
  });

  it('a unix socket is created with the configured permissions (default 0600) and serves', async () => {
    const socket = join(directory, 'sidecar.sock');
    const sidecar = await startTestSidecar(
      { address: `unix:${socket}`, unixSocketMode: loadConfig({}).unixSocketMode },
      { swf: new ScriptedSwf(() => DELIVERED) },
    );
    try {
      assert.equal((await stat(socket)).mode & 0o777, 0o600);
      assert.equal(sidecar.sidecar.grpcAddress, `unix:${socket}`);
      assert.deepEqual(await sidecar.client.fail({ taskToken: 'uds-1' }), {
        outcome: 'OUTCOME_DELIVERED',
        attempts: 1,
      });
    } finally {
      await sidecar.close();
    }
    const again = await startTestSidecar(
      { address: `unix:${socket}`, unixSocketMode: 0o660 },
      { swf: new ScriptedSwf(() => DELIVERED) },
    );
    try {
      assert.equal((await stat(socket)).mode & 0o777, 0o660, 'a stale socket file is replaced');
    } finally {
      await again.close();
    }
  });

  it('refuses half a TLS configuration at start-up', () => {
    assert.throws(() => loadConfig({ SWF_SIDECAR_TLS_CERT_FILE: '/x.pem' }), ConfigError);
    assert.throws(() => loadConfig({ SWF_SIDECAR_TLS_CLIENT_CA_FILE: '/ca.pem' }), ConfigError);
    assert.throws(() => loadConfig({ SWF_SIDECAR_UNIX_SOCKET_MODE: '999' }), ConfigError);
  });
});
