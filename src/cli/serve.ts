import { ConfigError, loadConfig } from '../config.js';

/**
 * `swf-sidecar serve`: start from the environment, drain on SIGTERM/SIGINT, exit 0 after a
 * drain (undelivered reports are logged and counted, not hidden behind an exit code), 1 when
 * the sidecar cannot start, 2 on bad configuration.
 */
export async function serve(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`swf-sidecar: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  // The AWS SDK is loaded only here, so the client commands of the same binary start fast.
  const { startSidecar } = await import('../app.js');
  const sidecar = await startSidecar(config);
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) return;
      process.stderr.write(`swf-sidecar: ${signal} received, draining\n`);
      sidecar.shutdown().then(
        () => resolve(0),
        (error: unknown) => {
          process.stderr.write(`swf-sidecar: shutdown failed: ${String(error)}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
