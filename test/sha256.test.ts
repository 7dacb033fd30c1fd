import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { HmacSha256, sha256Base64, sha256Hex } from '../src/sha256.js';

describe('sha256Hex and sha256Base64', () => {
  it('match createHash for strings (as UTF-8) and buffers', () => {
    for (const text of ['', 'abc', 'é✓ 𝄞', 'x'.repeat(5000)]) {
      assert.equal(sha256Hex(text), createHash('sha256').update(text, 'utf8').digest('hex'));
      assert.equal(sha256Base64(text), createHash('sha256').update(text, 'utf8').digest('base64'));
      const bytes = Buffer.from(text, 'utf8');
      assert.equal(sha256Hex(bytes), createHash('sha256').update(bytes).digest('hex'));
    }
  });
});

describe('HmacSha256', () => {
  const keys: (string | Buffer)[] = [
    '',
    'key',
    'AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'k'.repeat(64), // exactly one block
    'k'.repeat(65), // longer than a block: hashed first
    Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7)),
  ];
  const messages = ['', 'The quick brown fox', 'é✓ 𝄞', 'm'.repeat(255), 'm'.repeat(1000)];

  it('matches createHmac for every key and message, in hex and in bytes', () => {
    for (const key of keys) {
      const hmac = new HmacSha256(key);
      for (const message of messages) {
        const expected = createHmac('sha256', key).update(message, 'utf8').digest();
        assert.equal(hmac.hex(message), expected.toString('hex'), `key ${key.length}, message ${message.length}`);
        assert.deepEqual(hmac.digest(message), expected);
      }
    }
  });

  it('stays right when a short message follows a long one (the reused buffer is not stale)', () => {
    const hmac = new HmacSha256('key');
    for (const message of ['a'.repeat(2000), 'b', 'c'.repeat(300), '']) {
      assert.equal(hmac.hex(message), createHmac('sha256', 'key').update(message).digest('hex'));
    }
  });

  it('hands out digests that a later call does not overwrite', () => {
    const hmac = new HmacSha256('key');
    const first = hmac.digest('one');
    const copy = Buffer.from(first);
    hmac.digest('two');
    assert.deepEqual(first, copy);
  });
});
