import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let lastResort: (() => void) | undefined;

/** V8 12 (Node 22) and later; Node 20's V8 11 runs a young-generation collection whatever it is asked. */
const V8_HONOURS_GC_OPTIONS = Number(process.versions.v8.split('.')[0]) >= 12;

/**
 * Gives back the heap V8 keeps after a busy spell: a last-resort collection, what V8 itself runs
 * on a low-memory notification (full collections with memory reduction until nothing more is
 * freed, and the young generation shrunk).
 *
 * Why by hand: on Node 24 an idle sidecar keeps the young generation at the size start-up grew
 * it to (16 MB committed for 0 MB in use, 65 s after start), because V8's memory reducer, seeing
 * no allocation since the last collection, judges the rate high and postpones every time
 * (`--trace-memory-reducer`: "high alloc, foreground", every 8 s). Measured with bench/idle.ts:
 * an idle sidecar's anonymous RSS on Node 24 drops from about 39 MB to 27 MB (the bare grpc-js
 * server: 24 MB). On Node 20 the memory reducer does this by itself, and V8 11's `gc()` ignores
 * the options (it runs a young-generation collection), so there this does nothing.
 *
 * Costs one pause, 10 to 80 ms here with nothing queued: the caller runs it only when the
 * sidecar has been idle for a while with nothing outstanding. `gc` is taken from a context of
 * its own with --expose-gc set only for that moment, so the process's global has no `gc`.
 */
export function releaseMemory(): void {
  if (!V8_HONOURS_GC_OPTIONS) return;
  lastResort ??= lastResortCollection();
  lastResort();
}

function lastResortCollection(): () => void {
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext("() => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })") as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
