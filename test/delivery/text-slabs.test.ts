import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactReport } from '../../src/delivery/compact-report.js';
import { TextSlabs } from '../../src/delivery/text-slabs.js';

describe('TextSlabs', () => {
  it('carves small texts out of one slab, aligned, and starts another when it is full', () => {
    const slabs = new TextSlabs(1024);
    const a = slabs.allocate(100);
    const b = slabs.allocate(100);
    assert.equal(a.buffer, b.buffer);
    assert.equal(b.byteOffset - a.byteOffset, 104);
    for (let i = 0; i < 7; i += 1) slabs.allocate(100);
    const next = slabs.allocate(100);
    assert.notEqual(next.buffer, a.buffer, 'the tenth no longer fits in 1,024 bytes');
    assert.equal(next.byteOffset, 0);
  });

  it('gives large texts a buffer of their own, and empty ones no slab at all', () => {
    const slabs = new TextSlabs(1024);
    const small = slabs.allocate(10);
    const large = slabs.allocate(257);
    assert.equal(large.buffer.byteLength, 257);
    assert.equal(slabs.allocate(0).buffer.byteLength, 0);
    assert.equal(slabs.allocate(10).buffer, small.buffer);
  });
});

describe('CompactReport.detach', () => {
  it('moves the text of a slab slice into its own buffer, keeping what it reads', () => {
    const slabs = new TextSlabs(1024);
    const text = slabs.allocate(11);
    text.write('réasondet', 'utf8');
    const report = new CompactReport('tok', text, 7, 3, 6, 3);
    const before = [report.reason, report.details];
    report.detach();
    assert.deepEqual([report.reason, report.details], before);
    const held = (report as unknown as { text: Buffer }).text;
    assert.equal(held.buffer.byteLength, held.byteLength);
    assert.notEqual(held.buffer, text.buffer);
  });
});
