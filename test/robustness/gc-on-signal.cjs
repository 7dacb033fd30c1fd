// Test-only preload for the sidecar process (NODE_OPTIONS="--expose-gc --require <this file>"):
// on SIGUSR2 it runs a full garbage collection and prints the heap and RSS that survive it on
// stderr, so a memory check measures what is retained, not what V8 has not collected yet.
'use strict';
/* global process */
process.on('SIGUSR2', () => {
  globalThis.gc();
  const { heapUsed, heapTotal, rss, external } = process.memoryUsage();
  process.stderr.write(`swf-sidecar-test-gc ${JSON.stringify({ heapUsed, heapTotal, rss, external })}\n`);
});
