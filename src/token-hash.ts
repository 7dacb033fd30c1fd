import { createHash } from 'node:crypto';

/**
 * Task tokens are credentials: logs show this short, stable hash instead (12 hex characters of
 * SHA-256, enough to correlate log lines, useless to replay).
 */
export function tokenHash(taskToken: string): string {
  return createHash('sha256').update(taskToken).digest('hex').slice(0, 12);
}
