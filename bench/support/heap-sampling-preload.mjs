/* global process, setTimeout */
/**
 * Preloaded into a sidecar by bench/gc-pauses.ts (`--import` this file): samples the JS heap's
 * allocations, the ones collected since included (so it shows garbage, not what is alive), from
 * BENCH_HEAP_SAMPLE_FROM_MS after start for BENCH_HEAP_SAMPLE_FOR_MS, and writes the profile to
 * BENCH_HEAP_SAMPLE_DIR/heap-PID.heapprofile (a .heapprofile that Chrome DevTools also opens).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env['BENCH_HEAP_SAMPLE_DIR'];
if (dir !== undefined) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  const fromMs = Number(process.env['BENCH_HEAP_SAMPLE_FROM_MS'] ?? 3000);
  const forMs = Number(process.env['BENCH_HEAP_SAMPLE_FOR_MS'] ?? 5000);
  setTimeout(() => {
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 2048,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    setTimeout(() => {
      session.post('HeapProfiler.stopSampling', (error, result) => {
        if (error === null) writeFileSync(join(dir, `heap-${process.pid}.heapprofile`), JSON.stringify(result.profile));
      });
    }, forMs).unref();
  }, fromMs).unref();
}
