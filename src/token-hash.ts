import { sha256Hex } from './sha256.js';

/**
 * Task tokens are credentials: logs show this short, stable hash instead (12 hex characters of
 * SHA-256, enough to correlate log lines, useless to replay).
 */
export function tokenHash(taskToken: string): string {
  return sha256Hex(taskToken).slice(0, 12);
}
