import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `condition` every `intervalMs` until it holds; fails after `timeoutMs` with `describe()`
 * (the state it saw), so a hang shows what was missing. For what another process or the network
 * decides; never a stand-in for a timer of the code under test (use the manual clock).
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) {
      assert.fail(`not reached within ${options.timeoutMs} ms: ${options.describe()}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}
