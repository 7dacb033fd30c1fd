// @ts-check
/* global process, URL, Buffer, setInterval */
/**
 * The forwarding floor of measurement 3c: the least a Node.js process can spend to send
 * RespondActivityTaskFailed at a fixed rate. Plain `node:http` POSTs of the bench's payload as
 * JSON 1.0 on a keep-alive agent, answers read and parsed, sent RATE_PER_SECOND a second in
 * groups every BATCH_MS (the sidecar's pacing while its rate holds reports back); no signing,
 * no queue, no metrics. Prints one line when it has started sending.
 *
 * Env: BENCH_TARGET_URL (the fake SWF), BENCH_RATE_PER_SECOND (200), BENCH_BATCH_MS (50).
 */
import http from 'node:http';

const target = new URL(process.env['BENCH_TARGET_URL'] ?? 'http://127.0.0.1:1');
const ratePerSecond = Number(process.env['BENCH_RATE_PER_SECOND'] ?? 200);
const batchMs = Number(process.env['BENCH_BATCH_MS'] ?? 50);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const details = 'd'.repeat(1024);
const reason = 'bench: simulated activity failure';
let sent = 0;

function sendOne() {
  sent += 1;
  const body = JSON.stringify({ taskToken: `floor-${process.pid}-${sent}-`.padEnd(512, 'x'), reason, details });
  const request = http.request(
    {
      host: target.hostname,
      port: target.port,
      path: '/',
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'SimpleWorkflowService.RespondActivityTaskFailed',
        'content-length': Buffer.byteLength(body),
      },
    },
    (response) => {
      let answer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (answer += chunk));
      response.on('end', () => (answer === '' ? undefined : JSON.parse(answer)));
    },
  );
  request.on('error', () => undefined);
  request.end(body);
}

const perBatch = Math.max(1, Math.round((ratePerSecond * batchMs) / 1000));
setInterval(() => {
  for (let i = 0; i < perBatch; i += 1) sendOne();
}, batchMs);
process.stdout.write('sending\n');
process.on('SIGTERM', () => process.exit(0));
