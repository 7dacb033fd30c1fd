import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { connectClient } from '../support/grpc-client.js';
import { startTestSidecar } from '../support/in-process-sidecar.js';
import { settle } from '../support/manual-clock.js';
import { DELIVERED, ScriptedSwf, THROTTLED } from '../support/scripted-swf.js';

const serviceConfig = readFileSync(new URL('../../examples/grpc-retry-policy.json', import.meta.url), 'utf8');

/** The documented client retry policy, used by a real grpc-js client against the sidecar. */
describe('examples/grpc-retry-policy.json with grpc-js', () => {
  it('retries a full queue after the pushback the sidecar sends, and then succeeds', async () => {
    const swf = new ScriptedSwf();
    const sidecar = await startTestSidecar({ maxQueueItems: 1 }, { swf });
    const client = connectClient(sidecar.sidecar.grpcAddress, credentials.createInsecure(), {
      'grpc.service_config': serviceConfig,
    });
    try {
      await client.fail({ taskToken: 'held', delivery: 'DELIVERY_QUEUED' });
      const retried = client.fail({ taskToken: 'patient', delivery: 'DELIVERY_QUEUED' });
      for (
        let i = 0;
        i < 5000 && (await sidecar.sample('swf_sidecar_rejections_total{reason="queue_full"}')) === 0;
        i += 1
      ) {
        await settle();
      }
      assert.equal(await sidecar.sample('swf_sidecar_rejections_total{reason="queue_full"}'), 1, 'refused once');
      for (let i = 0; i < 1000 && swf.calls.length === 0; i += 1) await settle();
      swf.calls[0]?.answer(DELIVERED);
      assert.deepEqual(await retried, { outcome: 'OUTCOME_QUEUED', attempts: 0 });
    } finally {
      client.close();
      for (const call of swf.calls) call.answer(DELIVERED);
      await sidecar.close();
    }
  });

  it('does not retry RESOURCE_EXHAUSTED after SWF throttling outlasted the budget (pushback -1)', async () => {
    const swf = new ScriptedSwf(() => THROTTLED);
    const sidecar = await startTestSidecar({ retryMaxAttempts: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 2 }, { swf });
    const client = connectClient(sidecar.sidecar.grpcAddress, credentials.createInsecure(), {
      'grpc.service_config': serviceConfig,
    });
    try {
      const error = await client.failError({ taskToken: 'throttled' });
      assert.equal(error.code, status.RESOURCE_EXHAUSTED);
      assert.equal(swf.calls.length, 2, 'one call from the client, two SWF attempts, no client retry');
      assert.equal(
        await sidecar.sample(
          'grpc_server_started_total{grpc_type="unary",grpc_service="swfsidecar.v1.ActivityTasks",grpc_method="FailActivityTask"}',
        ),
        1,
      );
    } finally {
      client.close();
      await sidecar.close();
    }
  });
});
