/**
 * Http1ResponseParser: every body framing, fed whole, split at every point (in two and in three
 * pieces) and byte by byte; the limits at and just over them; every refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Http1ProtocolError,
  Http1ResponseParser,
  MAX_BODY_BYTES,
  MAX_META_BYTES,
} from '../../src/swf/http1-response-parser.js';

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: string;
  keepAlive: boolean;
}

/** Feeds `chunks` to a fresh parser (or `parser`); `close` ends the connection after them. */
function parse(chunks: readonly Buffer[], close = false, parser = new Http1ResponseParser()): Parsed | undefined {
  parser.expect();
  let complete = false;
  for (const chunk of chunks) {
    assert.equal(complete, false, 'bytes after the complete response');
    complete = parser.push(chunk);
  }
  if (!complete && close) complete = parser.end();
  if (!complete) return undefined;
  assert.equal(parser.awaiting, false);
  return {
    status: parser.status,
    headers: { ...parser.headers },
    body: parser.body.toString('latin1'),
    keepAlive: parser.keepAlive,
  };
}

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Every way to cut `data`: whole, byte by byte, in two at every point, in three at every pair of points. */
function* splits(data: Buffer): Generator<Buffer[]> {
  yield [data];
  yield Array.from(data, (byte) => Buffer.from([byte]));
  for (let i = 1; i < data.length; i++) {
    yield [data.subarray(0, i), data.subarray(i)];
    for (let j = i + 1; j < data.length; j++) yield [data.subarray(0, i), data.subarray(i, j), data.subarray(j)];
  }
}

function assertProtocolError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Http1ProtocolError, String(error));
    assert.equal(error.code, 'HPE_INVALID_RESPONSE');
    assert.match(error.message, message);
    return true;
  });
}

const samples: [string, string, boolean, Parsed][] = [
  [
    'Content-Length, repeated and mixed-case fields, OWS',
    'HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId:  rid-1 \r\n' +
      'X-Multi: a\r\nx-multi: b\r\nContent-Length: 2\r\n\r\n{}',
    false,
    {
      status: 200,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': 'rid-1',
        'x-multi': 'a, b',
        'content-length': '2',
      },
      body: '{}',
      keepAlive: true,
    },
  ],
  [
    'chunked, with extensions and trailers',
    'HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\nA \r\n, world!!!\r\n0;last\r\nx-trailer: dropped\r\nother: too\r\n\r\n',
    false,
    { status: 400, headers: { 'transfer-encoding': 'chunked' }, body: 'hello, world!!!', keepAlive: true },
  ],
  [
    '100 Continue and 103 Early Hints skipped, then the answer',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n' +
      'HTTP/1.1 500 Internal Server Error\r\ncontent-length: 3\r\n\r\nbad',
    false,
    { status: 500, headers: { 'content-length': '3' }, body: 'bad', keepAlive: true },
  ],
  [
    'read until close (no framing), not kept alive',
    'HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the end',
    true,
    { status: 200, headers: { server: 'x' }, body: 'until the end', keepAlive: false },
  ],
];

describe('Http1ResponseParser: framing, split every way', () => {
  for (const [name, text, close, expected] of samples) {
    it(name, () => {
      let count = 0;
      for (const chunks of splits(bytes(text))) {
        assert.deepEqual(parse(chunks, close), expected, `split ${chunks.map((c) => c.length).join('+')}`);
        count++;
      }
      assert.ok(count > text.length);
    });
  }

  it('one parser, several responses in turn (a kept-alive connection)', () => {
    const parser = new Http1ResponseParser();
    for (const [, text, close, expected] of samples) {
      assert.deepEqual(parse([bytes(text)], close, parser), expected);
    }
    assert.deepEqual(parse([bytes(samples[0]![1])], false, parser), samples[0]![3]);
  });
});

describe('Http1ResponseParser: framing rules', () => {
  const cases: [string, string, Partial<Parsed>][] = [
    ['no reason phrase', 'HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n', { status: 200, body: '', keepAlive: true }],
    ['empty reason phrase', 'HTTP/1.1 404 \r\ncontent-length: 1\r\n\r\nx', { status: 404, body: 'x' }],
    ['no header fields at all', 'HTTP/1.1 204 No Content\r\n\r\n', { status: 204, headers: {}, body: '' }],
    ['204 has no body, whatever it says', 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n', { body: '' }],
    ['304 has no body', 'HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n', { body: '' }],
    ['Content-Length: 0', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { body: '', keepAlive: true }],
    ['identical repeated Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab', { body: 'ab' }],
    ['Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n', { keepAlive: false }],
    [
      'Connection: close among other tokens',
      'HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\ncontent-length: 0\r\n\r\n',
      { keepAlive: false },
    ],
    ['HTTP/1.0 closes by default', 'HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n', { keepAlive: false }],
    [
      'HTTP/1.0 with Connection: keep-alive',
      'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 1\r\n\r\nk',
      { keepAlive: true, body: 'k' },
    ],
    [
      'chunked as the final coding, sizes in any case, leading zeros',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n0000b\r\nhello world\r\n0\r\n\r\n',
      { body: 'hello world', keepAlive: true },
    ],
    [
      'chunked, nothing but the last chunk',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      { body: '' },
    ],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => {
      const parsed = parse([bytes(text)]);
      assert.ok(parsed, 'complete');
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual(parsed[key as keyof Parsed], value, key);
      }
    });
  }

  it('a final coding other than chunked is read until close, undecoded', () => {
    const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw bytes';
    assert.equal(parse([bytes(text)]), undefined);
    assert.deepEqual(parse([bytes(text)], true)?.body, 'raw bytes');
  });

  it('status and headers are there once the head is, before the body (for a 2xx cut off mid-body)', () => {
    const parser = new Http1ResponseParser();
    parser.expect();
    assert.equal(parser.started, false);
    assert.equal(parser.push(bytes('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nx-amzn-requestid: r')), false);
    assert.equal(parser.status, 0, 'head incomplete, the 100 does not count');
    assert.equal(parser.started, true);
    assert.equal(parser.push(bytes('\r\ncontent-length: 10\r\n\r\n{"a"')), false);
    assert.equal(parser.status, 201);
    assert.equal(parser.headers['x-amzn-requestid'], 'r');
    assert.equal(parser.end(), false, 'closed mid-body: incomplete');
    assert.equal(parser.awaiting, true);
  });

  it('bytes after a complete response: the response stands, the connection is not reusable', () => {
    const parser = new Http1ResponseParser();
    const parsed = parse([bytes('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n')], false, parser);
    assert.deepEqual(parsed && { body: parsed.body, keepAlive: parsed.keepAlive }, { body: '{}', keepAlive: false });
    assertProtocolError(() => parser.push(bytes('x')), /no request outstanding/);
  });

  it('bytes when no response is expected are refused; the close of an idle connection completes nothing', () => {
    const parser = new Http1ResponseParser();
    assert.equal(parser.awaiting, false);
    assert.equal(parser.end(), false);
    assertProtocolError(() => parser.push(bytes('HTTP/1.1 200 OK\r\n\r\n')), /no request outstanding/);
  });

  it('a body read until close is complete only when the connection closes', () => {
    const parser = new Http1ResponseParser();
    parser.expect();
    assert.equal(parser.push(bytes('HTTP/1.1 200 OK\r\n\r\n')), false);
    assert.equal(parser.push(bytes('abc')), false);
    assert.equal(parser.end(), true);
    assert.deepEqual([parser.body.toString(), parser.keepAlive], ['abc', false]);
  });
});

describe('Http1ResponseParser: refusals', () => {
  const refused: [string, string, RegExp][] = [
    ['HTTP/2 status line', 'HTTP/2 200 OK\r\n\r\n', /invalid status line/],
    ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', /invalid status line/],
    ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', /invalid status line/],
    ['status 600', 'HTTP/1.1 600 What\r\n\r\n', /invalid status line/],
    ['status 099', 'HTTP/1.1 099 What\r\n\r\n', /invalid status line/],
    ['two spaces', 'HTTP/1.1  200 OK\r\n\r\n', /invalid status line/],
    ['no space after the code', 'HTTP/1.1 200OK\r\n\r\n', /invalid status line/],
    ['not HTTP at all', 'SSH-2.0-OpenSSH_9.6\r\n\r\n', /invalid status line/],
    ['an empty head', '\r\n\r\n', /invalid status line/],
    ['lowercase protocol', 'http/1.1 200 OK\r\n\r\n', /invalid status line/],
    ['NUL in the reason phrase', 'HTTP/1.1 200 O\0K\r\n\r\n', /invalid status line/],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n', /101/],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nx-a: one\r\n two\r\n\r\n', /obs-fold/],
    ['a line without a colon', 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', /invalid header line/],
    ['an empty name', 'HTTP/1.1 200 OK\r\n: value\r\n\r\n', /invalid header line/],
    ['space before the colon', 'HTTP/1.1 200 OK\r\nname : value\r\n\r\n', /invalid header name/],
    ['non-token name', 'HTTP/1.1 200 OK\r\nna(me): value\r\n\r\n', /invalid header name/],
    ['non-ASCII name', 'HTTP/1.1 200 OK\r\nnäme: value\r\n\r\n', /invalid header name/],
    ['NUL in a value', 'HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 0\r\n\r\n', /NUL in the value of header x-a/],
    ['bare CR in a value', 'HTTP/1.1 200 OK\r\nx-a: a\rb\r\ncontent-length: 0\r\n\r\n', /CR, LF or NUL/],
    ['bare LF in a value', 'HTTP/1.1 200 OK\r\nx-a: a\nb\r\ncontent-length: 0\r\n\r\n', /CR, LF or NUL/],
    [
      'conflicting Content-Length',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      /Content-Length/,
    ],
    ['non-numeric Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n', /Content-Length/],
    ['negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /Content-Length/],
    ['empty Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n', /Content-Length/],
    ['Content-Length with a sign', 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n', /Content-Length/],
    [
      'Transfer-Encoding with Content-Length',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n',
      /both Transfer-Encoding and Content-Length/,
    ],
    ['Transfer-Encoding in HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', /HTTP\/1.0/],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk size/],
    ['an empty chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n', /chunk size/],
    [
      'no CRLF after chunk data',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n',
      /CR after the chunk data/,
    ],
    ['bare LF after a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x\n', /bare LF/],
    ['CR without LF after a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\rx', /LF after/],
    ['bare LF in a trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nx: y\n', /bare LF/],
    ['bare LF ending the trailers', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n', /bare LF/],
  ];
  for (const [name, text, message] of refused) {
    it(name, () => {
      // Whole and byte by byte: the same refusal wherever the bytes are cut.
      for (const chunks of [[bytes(text)], Array.from(bytes(text), (b) => Buffer.from([b]))]) {
        assertProtocolError(() => parse(chunks), message);
      }
    });
  }
});

describe('Http1ResponseParser: limits', () => {
  /** A head of exactly `size` bytes (status line, one padding field, the empty line). */
  const headOf = (size: number, framing = 'content-length: 0\r\n'): string => {
    const fixed = `HTTP/1.1 200 OK\r\n${framing}x-pad: \r\n\r\n`;
    return `HTTP/1.1 200 OK\r\n${framing}x-pad: ${'p'.repeat(size - fixed.length)}\r\n\r\n`;
  };

  it(`a head of ${MAX_META_BYTES} bytes is read, one more byte is refused, fed whole or in pieces`, () => {
    assert.equal(headOf(MAX_META_BYTES).length, MAX_META_BYTES);
    for (const pieceSize of [MAX_META_BYTES + 1, 1000, 7]) {
      const feed = (text: string): Buffer[] => {
        const data = bytes(text);
        const chunks: Buffer[] = [];
        for (let i = 0; i < data.length; i += pieceSize) chunks.push(data.subarray(i, i + pieceSize));
        return chunks;
      };
      assert.equal(parse(feed(headOf(MAX_META_BYTES)))?.status, 200);
      assertProtocolError(() => parse(feed(headOf(MAX_META_BYTES + 1))), /over 65536 bytes/);
    }
  });

  it('a head that never ends is refused once over the limit, before it ends', () => {
    const parser = new Http1ResponseParser();
    parser.expect();
    assert.equal(parser.push(bytes(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(MAX_META_BYTES - 30)}`)), false);
    assertProtocolError(() => parser.push(bytes('a'.repeat(100))), /over 65536 bytes/);
  });

  it('interim responses count against the head limit', () => {
    const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
    const many = interim.repeat(Math.ceil(MAX_META_BYTES / interim.length));
    assertProtocolError(() => parse([bytes(many)]), /over 65536 bytes/);
  });

  it('chunk-size lines and trailers count against the same limit', () => {
    const head = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n';
    const longExtension = `1;${'e'.repeat(MAX_META_BYTES)}\r\nx\r\n0\r\n\r\n`;
    assertProtocolError(() => parse([bytes(head + longExtension)]), /over 65536 bytes/);
    const longTrailer = `0\r\nx-t: ${'t'.repeat(MAX_META_BYTES)}\r\n\r\n`;
    assertProtocolError(() => parse([bytes(head + longTrailer)]), /over 65536 bytes/);
  });

  const body = (size: number): Buffer => Buffer.alloc(size, 0x62);
  const framings: [string, (size: number) => Buffer[], boolean][] = [
    ['Content-Length', (size) => [bytes(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`), body(size)], false],
    [
      'chunked',
      (size) => [
        bytes('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'),
        bytes('1\r\nb\r\n'),
        bytes(`${(size - 1).toString(16)}\r\n`),
        body(size - 1),
        bytes('\r\n0\r\n\r\n'),
      ],
      false,
    ],
    ['read until close', (size) => [bytes('HTTP/1.1 200 OK\r\n\r\n'), body(size)], true],
  ];
  for (const [name, response, close] of framings) {
    it(`${name}: a body of ${MAX_BODY_BYTES} bytes is read, one more byte is refused`, () => {
      assert.equal(parse(response(MAX_BODY_BYTES), close)?.body.length, MAX_BODY_BYTES);
      assertProtocolError(() => parse(response(MAX_BODY_BYTES + 1), close), /body over 1048576 bytes/);
    });
  }

  it('a Content-Length or chunk size over the limit is refused before any body byte', () => {
    assertProtocolError(
      () => parse([bytes(`HTTP/1.1 200 OK\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n\r\n`)]),
      /body over/,
    );
    assertProtocolError(
      () => parse([bytes('HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\n')]),
      /body over/,
    );
    assertProtocolError(
      () => parse([bytes('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffffff')]),
      /body over/,
    );
  });
});
