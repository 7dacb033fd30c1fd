import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { FakeSwf } from '../support/fake-swf.js';
import { connectClient } from '../support/grpc-client.js';
import { SIDECAR_BIN, spawnSidecar } from '../support/sidecar-process.js';

describe('swf-sidecar serve, as a process', () => {
  it('--help lists the commands and every setting', () => {
    const result = spawnSync(process.execPath, [SIDECAR_BIN, '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /swf-sidecar serve/);
    assert.match(result.stdout, /SWF_SIDECAR_RATE_PER_SECOND\s+100/);
    assert.match(result.stdout, /SWF_SIDECAR_JOURNAL_DIR/);
  });

  it('exits 2 on bad configuration, listing every bad value in one message', () => {
    const result = spawnSync(process.execPath, [SIDECAR_BIN, 'serve'], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], SWF_SIDECAR_BURST: 'lots', SWF_SIDECAR_METRICS_ADDRESS: 'here' },
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /SWF_SIDECAR_BURST: expected a whole number from 1 to \d+, got "lots"/);
    assert.match(result.stderr, /SWF_SIDECAR_METRICS_ADDRESS: expected HOST:PORT or \[IPv6\]:PORT, got "here"/);
  });

  it('exits 252 on an unknown command', () => {
    const result = spawnSync(process.execPath, [SIDECAR_BIN, 'frobnicate'], { encoding: 'utf8' });
    assert.equal(result.status, 252);
    assert.match(result.stderr, /unknown command "frobnicate"/);
  });

  it('on SIGTERM drains what it accepted, then exits 0; logs show token hashes, never tokens', async () => {
    const fake = await FakeSwf.start({ latencyMs: 50 });
    const sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: fake.url, SWF_SIDECAR_LOG_LEVEL: 'debug' });
    const client = connectClient(sidecar.grpcAddress);
    try {
      const tokens = Array.from({ length: 20 }, (_, i) => `drain-secret-token-${i}`);
      for (const taskToken of tokens) await client.fail({ taskToken, delivery: 'DELIVERY_QUEUED' });
      const exit = await sidecar.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.equal(fake.accepted().length, 20);
      const logText = JSON.stringify(sidecar.logs);
      assert.doesNotMatch(logText, /drain-secret-token/);
      assert.ok(sidecar.logs.some((line) => line['msg'] === 'stopped' && line['undelivered'] === 0));
    } finally {
      client.close();
      await sidecar.stop('SIGKILL');
      await fake.close();
    }
  });
});
