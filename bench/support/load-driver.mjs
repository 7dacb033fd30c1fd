// @ts-check
/* global process, Buffer, setTimeout, clearTimeout */
/**
 * The load generator, run as its own process (child_process.fork) so that its CPU never mixes
 * with the CPU of the server under test. Plain JavaScript, no loader, like the processes it is
 * compared against.
 *
 * Two transports send the same FailActivityTask reports:
 * - `grpc`: node:http2 with hand-made gRPC frames (5-byte prefix + protobuf), a distinct task
 *   token per call (h2load would repeat one body, so one token, which the sidecar answers from its
 *   recent-deliveries window), to the sidecar or to the bare baseline server;
 * - `swf-sdk`: the same report as RespondActivityTaskFailed through @aws-sdk/client-swf, directly
 *   to the fake SWF, configured as the sidecar's own SWF port is (src/swf/aws-swf-port.ts).
 *
 * Two load shapes:
 * - `closed`: `concurrency` calls always outstanding (saturation), until the window ends or
 *   `count` calls were sent;
 * - `open`: calls started on a fixed schedule at `ratePerSecond`, whatever the answers do.
 *
 * Protocol with the parent (bench/support/load-driver-client.ts):
 *   child -> {type: 'ready'}; parent -> {type: 'run', spec};
 *   child -> {type: 'window', edge: 'start' | 'end'} (the parent samples server CPU there);
 *   child -> {type: 'done', result}.
 */
import http2 from 'node:http2';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';

/**
 * @typedef {{
 *   transport: 'grpc' | 'swf-sdk',
 *   target: string,
 *   delivery: number,
 *   tokenChars: number,
 *   reason: string,
 *   detailsChars: number,
 *   tokenPrefix: string,
 *   mode: 'closed' | 'open',
 *   concurrency?: number,
 *   connections?: number,
 *   ratePerSecond?: number,
 *   warmupMs: number,
 *   durationMs: number,
 *   count?: number,
 *   drainTimeoutMs: number,
 *   recordLatencies: boolean,
 * }} LoadSpec
 */

const GRPC_PATH = '/swfsidecar.v1.ActivityTasks/FailActivityTask';

// ---- protobuf, by hand: FailActivityTaskRequest {1: task_token, 2: reason, 3: details, 4: delivery}

/** @param {number} value */
function varint(value) {
  const bytes = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** @param {number} field @param {string} text */
function stringField(field, text) {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([(field << 3) | 2]), varint(body.length), body]);
}

/**
 * Reports whose task token is `tokenPrefix`, a zero-padded sequence number and filler up to
 * `tokenChars`; every other byte is the same for every call. Returns the token (for the SDK) or
 * the whole gRPC frame (for http2), built by patching a template, so that making a call costs
 * the generator next to nothing.
 * @param {LoadSpec} spec
 */
function reportFactory(spec) {
  const seqDigits = 10;
  const head = `${spec.tokenPrefix}-`;
  const filler = 'x'.repeat(Math.max(0, spec.tokenChars - head.length - seqDigits));
  const token = (/** @type {number} */ seq) => head + String(seq).padStart(seqDigits, '0') + filler;
  const details = 'd'.repeat(spec.detailsChars);

  const template = Buffer.concat([
    stringField(1, token(0)),
    stringField(2, spec.reason),
    stringField(3, details),
    Buffer.from([4 << 3]),
    varint(spec.delivery),
  ]);
  const frame = Buffer.alloc(5 + template.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(template.length, 1);
  template.copy(frame, 5);
  // Offset of the sequence digits in the frame: 5 (prefix) + tag + length varint + head.
  const seqOffset = 5 + 1 + varint(Buffer.byteLength(token(0))).length + Buffer.byteLength(head);
  const grpcFrame = (/** @type {number} */ seq) => {
    const copy = Buffer.allocUnsafe(frame.length);
    frame.copy(copy);
    copy.write(String(seq).padStart(seqDigits, '0'), seqOffset, 'latin1');
    return copy;
  };
  return { token, details, grpcFrame };
}

// ---- transports: send(seq, done(code)) where code 0 is success

/**
 * @param {LoadSpec} spec
 * @returns {Promise<{ send: (seq: number, done: (code: number, outcome: number) => void) => void, close: () => void }>}
 */
async function grpcTransport(spec) {
  const reports = reportFactory(spec);
  const sessions = [];
  for (let i = 0; i < (spec.connections ?? 1); i++) {
    const session = http2.connect(`http://${spec.target}`);
    session.on('error', () => undefined);
    await new Promise((resolve, reject) => {
      session.once('connect', resolve);
      session.once('error', reject);
    });
    sessions.push(session);
  }
  let next = 0;
  return {
    send(seq, done) {
      const session = sessions[next];
      next = (next + 1) % sessions.length;
      if (session === undefined) throw new Error('no session');
      const stream = session.request({
        ':method': 'POST',
        ':path': GRPC_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      let code = -1;
      let outcome = 0;
      stream.on('response', (headers) => {
        // A trailers-only answer (an error) carries grpc-status in the headers.
        const status = headers['grpc-status'];
        if (status !== undefined) code = Number(status);
      });
      stream.on('trailers', (trailers) => {
        const status = trailers['grpc-status'];
        if (status !== undefined) code = Number(status);
      });
      stream.on('data', (/** @type {Buffer} */ chunk) => {
        // FailActivityTaskResponse: field 1 (outcome) is the first varint after the 5-byte prefix.
        if (chunk.length >= 7 && chunk[5] === 0x08) outcome = chunk[6] ?? 0;
      });
      stream.on('error', () => undefined);
      stream.on('close', () => done(code, outcome));
      stream.end(reports.grpcFrame(seq));
    },
    close() {
      for (const session of sessions) session.close();
    },
  };
}

/**
 * The direct baseline: the SDK configured as src/swf/aws-swf-port.ts configures it (no SDK
 * retries, keep-alive agents with 50 sockets, timeouts on); endpoint, region and credentials
 * from the same environment variables the sidecar reads.
 * @param {LoadSpec} spec
 * @returns {Promise<{ send: (seq: number, done: (code: number, outcome: number) => void) => void, close: () => void }>}
 */
async function sdkTransport(spec) {
  const { SWFClient, RespondActivityTaskFailedCommand } = await import('@aws-sdk/client-swf');
  const { NodeHttpHandler } = await import('@smithy/node-http-handler');
  const reports = reportFactory(spec);
  const requestTimeoutMs = 5_000;
  const agentOptions = { keepAlive: true, maxSockets: 50 };
  const client = new SWFClient({
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: requestTimeoutMs,
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
    }),
  });
  return {
    send(seq, done) {
      const command = new RespondActivityTaskFailedCommand({
        taskToken: reports.token(seq),
        reason: spec.reason,
        details: reports.details,
      });
      client.send(command).then(
        () => done(0, 1),
        () => done(2, 0),
      );
    },
    close() {
      client.destroy();
    },
  };
}

// ---- load shapes

/**
 * @param {LoadSpec} spec
 * @param {{ send: (seq: number, done: (code: number, outcome: number) => void) => void }} transport
 * @param {(message: unknown) => void} post
 */
function runLoad(spec, transport, post) {
  return new Promise((resolve) => {
    const startMs = performance.now();
    const windowStartMs = startMs + spec.warmupMs;
    const windowEndMs = windowStartMs + spec.durationMs;
    const count = spec.count ?? Number.POSITIVE_INFINITY;
    /** @type {number[]} */
    const latencies = [];
    /** @type {number[]} */
    const lags = [];
    /** @type {Record<string, number>} */
    const codes = {};
    /** @type {Record<string, number>} */
    const outcomes = {};
    let sent = 0;
    let inFlight = 0;
    let windowOk = 0;
    let windowErrors = 0;
    let windowStarted = spec.warmupMs <= 0;
    let windowEnded = false;
    let stopped = false;
    /** @type {NodeJS.CpuUsage | undefined} */
    let cpuAtStart;
    let actualWindowStartMs = windowStarted ? startMs : Number.NaN;
    let actualWindowEndMs = Number.NaN;
    let drainTimer;
    let cpuMs = Number.NaN;

    if (windowStarted) {
      cpuAtStart = process.cpuUsage();
      post({ type: 'window', edge: 'start' });
    }

    const startWindow = () => {
      if (windowStarted) return;
      windowStarted = true;
      actualWindowStartMs = performance.now();
      cpuAtStart = process.cpuUsage();
      post({ type: 'window', edge: 'start' });
    };
    const endWindow = () => {
      if (windowEnded) return;
      windowEnded = true;
      actualWindowEndMs = performance.now();
      const cpu = process.cpuUsage(cpuAtStart);
      cpuMs = (cpu.user + cpu.system) / 1000;
      post({ type: 'window', edge: 'end' });
    };
    const finishIfDone = () => {
      if (!stopped || inFlight > 0) return;
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      finish();
    };
    const finish = () => {
      endWindow();
      resolve({
        sent,
        inFlightAtEnd: inFlight,
        codes,
        outcomes,
        window: {
          ok: windowOk,
          errors: windowErrors,
          elapsedMs: actualWindowEndMs - actualWindowStartMs,
          driverCpuMs: cpuMs,
          latenciesMs: latencies,
          scheduleLagMs: lags,
        },
      });
    };
    const stop = () => {
      if (stopped) return;
      stopped = true;
      // Closed loop: the window ends now; what is still out only drains. Open loop: the window
      // covers calls *started* in it, so it ends once they are all answered.
      if (spec.mode === 'closed') endWindow();
      drainTimer = setTimeout(finish, spec.drainTimeoutMs);
      finishIfDone();
    };

    const fire = (/** @type {number} */ scheduledMs) => {
      const seq = sent++;
      inFlight++;
      const callStartMs = performance.now();
      const inWindow = windowStarted && !windowEnded;
      if (inWindow && spec.mode === 'open') lags.push(callStartMs - scheduledMs);
      transport.send(seq, (code, outcome) => {
        inFlight--;
        codes[code] = (codes[code] ?? 0) + 1;
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        const countIt = spec.mode === 'closed' ? windowStarted && !windowEnded : inWindow;
        if (countIt) {
          if (code === 0) windowOk++;
          else windowErrors++;
          if (spec.recordLatencies && code === 0) latencies.push(performance.now() - callStartMs);
        }
        if (spec.mode === 'closed' && !stopped) {
          if (sent < count && performance.now() < windowEndMs) fire(performance.now());
          else stop();
        }
        if (stopped) finishIfDone();
      });
    };

    if (spec.mode === 'closed') {
      const concurrency = Math.min(spec.concurrency ?? 1, count);
      for (let i = 0; i < concurrency; i++) fire(startMs);
      if (spec.warmupMs > 0) setTimeout(startWindow, spec.warmupMs);
      if (Number.isFinite(windowEndMs)) setTimeout(stop, windowEndMs - startMs);
      return;
    }

    // Open loop: call i is due at start + i / rate; each timer turn starts every call now due.
    const intervalMs = 1000 / (spec.ratePerSecond ?? 1);
    let due = startMs;
    const tick = () => {
      const now = performance.now();
      if (!windowStarted && now >= windowStartMs) startWindow();
      while (due <= now && due < windowEndMs && sent < count) {
        if (!windowStarted && due >= windowStartMs) startWindow();
        fire(due);
        due += intervalMs;
      }
      if (due >= windowEndMs || sent >= count) {
        // Open loop: the window covers calls started in it; it ends once they are answered.
        stopped = true;
        drainTimer = setTimeout(finish, spec.drainTimeoutMs);
        const check = () => {
          if (inFlight === 0) {
            clearTimeout(drainTimer);
            finish();
          } else setTimeout(check, 1);
        };
        check();
        return;
      }
      setTimeout(tick, Math.max(0, due - performance.now()));
    };
    tick();
  });
}

// ---- process protocol

const post = (/** @type {unknown} */ message) => process.send?.(message);

process.on('message', (/** @type {{type: string, spec: LoadSpec}} */ message) => {
  if (message.type !== 'run') return;
  const spec = message.spec;
  (async () => {
    const transport = spec.transport === 'grpc' ? await grpcTransport(spec) : await sdkTransport(spec);
    const result = await runLoad(spec, transport, post);
    transport.close();
    post({ type: 'done', result });
  })().catch((error) => {
    post({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});

// The SDK is imported before 'ready', so its load time never lands in a measurement window.
if (process.argv.includes('--preload-sdk')) {
  await import('@aws-sdk/client-swf');
  await import('@smithy/node-http-handler');
}
post({ type: 'ready' });
