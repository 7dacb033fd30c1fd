// Preloaded into a sidecar process by lazy-redis.test.ts (NODE_OPTIONS=--require): at exit, says
// on stderr whether the Redis client was ever loaded.
'use strict';
/* global process, require */
process.on('exit', () => {
  const loaded = Object.keys(require.cache).some((path) => /[\\/]node_modules[\\/]ioredis[\\/]/.test(path));
  process.stderr.write(`ioredis-loaded=${loaded}\n`);
});
