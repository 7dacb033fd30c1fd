import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig } from '../config.js';

/**
 * V8 grows the old generation to several times the live data while a burst of reports arrives,
 * and keeps it: measured with 50,000 QUEUED reports waiting, about 300 MB of RSS for 53 MB of
 * live heap. A fixed growing factor trades memory for the CPU of more major collections while a
 * queue builds up; measured here (benchmark 4 with 50,000 waiting / benchmark 3a CPU per accepted
 * call): V8's adaptive default ~300 MB / 58 µs; 1.3: 224 MB / 72 µs; 1.6: 232 MB / 65 µs;
 * 2.0: 243 MB (peaks of 252) / 59 µs. 1.6 keeps a margin under the 250 MB target for a little
 * CPU. A sidecar shares its pod's memory limit, so a predictable footprint wins. Set before the
 * sidecar allocates much; V8 reads it at each collection.
 */
const HEAP_GROWING_PERCENT = 60;

/**
 * `swf-sidecar serve`: start from the environment, drain on SIGTERM/SIGINT, exit 0 after a
 * drain (undelivered reports are logged and counted, not hidden behind an exit code), 1 when
 * the sidecar cannot start, 2 on bad configuration.
 */
export async function serve(): Promise<number> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
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
  // The signal handlers come first: a SIGTERM that arrives while the sidecar starts (or just as it
  // logs ready) is answered by a drain once it has started, never by Node's default of dying.
  let signalled: NodeJS.Signals | undefined;
  let onSignal = (signal: NodeJS.Signals): void => {
    signalled ??= signal;
  };
  const handle = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  // The app (and what it loads) is imported only here, so the client commands of the same binary
  // start fast.
  const { startSidecar } = await import('../app.js');
  const sidecar = await startSidecar(config);
  return new Promise<number>((resolve) => {
    let signals = 0;
    onSignal = (signal: NodeJS.Signals): void => {
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
    if (signalled !== undefined) onSignal(signalled);
  });
}
