// Preloaded into a sidecar process by lazy-journal.test.ts (NODE_OPTIONS=--import): a module
// loader hook watches for the journal module, and at exit the process says on stderr whether it
// was ever loaded.
/* global process */
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) {
  if (url.endsWith('/journal/file-journal.js')) port.postMessage(url);
  return next(url, context);
}
`;

let loaded = false;
const { port1, port2 } = new MessageChannel();
port1.on('message', () => (loaded = true));
port1.unref();
register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { port: port2 }, transferList: [port2] });
process.on('exit', () => process.stderr.write(`journal-loaded=${loaded}\n`));
