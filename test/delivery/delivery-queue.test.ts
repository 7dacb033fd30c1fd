import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryDeliveryQueue } from '../../src/delivery/delivery-queue.js';
import { PendingDelivery } from '../../src/delivery/pending-delivery.js';

const item = (token: string) =>
  new PendingDelivery({ taskToken: token }, 1, 'queued', { maxAttempts: 1, maxElapsedMs: 0 }, 0);

describe('InMemoryDeliveryQueue', () => {
  it('is FIFO for push, with pushFront jumping the line, across growth', () => {
    const queue = new InMemoryDeliveryQueue();
    for (let i = 0; i < 200; i += 1) queue.push(item(`t${i}`));
    queue.pushFront(item('retry'));
    assert.equal(queue.length, 201);
    const first = queue.take(3).map((pending) => pending.report.taskToken);
    assert.deepEqual(first, ['retry', 't0', 't1']);
    const rest = queue.take(1000).map((pending) => pending.report.taskToken);
    assert.equal(rest.length, 198);
    assert.equal(rest.at(-1), 't199');
    assert.equal(queue.length, 0);
    assert.deepEqual(queue.take(5), []);
  });
});
