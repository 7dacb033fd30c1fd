import { hash } from 'node:crypto';

/**
 * SHA-256 and HMAC-SHA256 on the hot path, with `crypto.hash` (one native call, Node 20.12+).
 *
 * `createHash` and `createHmac` each make a native object that V8 tracks with a weak handle
 * until it is collected. Signing a request made three of them, so at 1,000 forwarded calls a
 * second each young-generation collection also ran about 1,200 weak callbacks, which added up
 * to a millisecond to the pause (`--trace-gc-nvp`: heap.external_weak_global_handles). One-shot
 * hashing makes none.
 */

/** SHA-256 of `data` (a string is hashed as UTF-8), as lowercase hex. */
export function sha256Hex(data: string | Buffer): string {
  return hash('sha256', data, 'hex');
}

/** SHA-256 of a UTF-8 string, as base64. */
export function sha256Base64(data: string): string {
  return hash('sha256', data, 'base64');
}

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
const INNER_PAD = 0x36;
const OUTER_PAD = 0x5c;

/**
 * HMAC-SHA256 (RFC 2104) under one key, as SHA-256(K ^ opad || SHA-256(K ^ ipad || message)).
 * The padded key blocks are computed once; each message is written into a reused buffer behind
 * the inner block, so a signature allocates only its digests. Not safe to share between threads.
 */
export class HmacSha256 {
  private inner: Buffer;
  private readonly outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);

  constructor(key: string | Buffer) {
    let keyBytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (keyBytes.length > BLOCK_BYTES) keyBytes = hash('sha256', keyBytes, 'buffer');
    this.inner = Buffer.alloc(BLOCK_BYTES + 256);
    for (let i = 0; i < BLOCK_BYTES; i += 1) {
      const k = keyBytes[i] ?? 0;
      this.inner[i] = k ^ INNER_PAD;
      this.outer[i] = k ^ OUTER_PAD;
    }
  }

  /** The MAC of `message` (UTF-8) as raw bytes. */
  digest(message: string): Buffer {
    const length = Buffer.byteLength(message, 'utf8');
    if (BLOCK_BYTES + length > this.inner.length) {
      const grown = Buffer.alloc(BLOCK_BYTES + Math.max(length, this.inner.length * 2));
      this.inner.copy(grown, 0, 0, BLOCK_BYTES);
      this.inner = grown;
    }
    this.inner.write(message, BLOCK_BYTES, 'utf8');
    const innerDigest = hash('sha256', this.inner.subarray(0, BLOCK_BYTES + length), 'buffer');
    innerDigest.copy(this.outer, BLOCK_BYTES);
    return hash('sha256', this.outer, 'buffer');
  }

  /** The MAC of `message` (UTF-8) as lowercase hex. */
  hex(message: string): string {
    return this.digest(message).toString('hex');
  }
}
