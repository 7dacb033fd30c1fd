/**
 * An incremental parser of HTTP/1.1 responses, for the one client that reads them
 * (http1-connection-pool.ts): fed the socket's chunks as they arrive, split anywhere.
 *
 * What it accepts (RFC 9112):
 * - Status line `HTTP/1.1 200 OK` or `HTTP/1.0 ...`, the reason phrase optional. Lines end in
 *   CRLF (a bare LF is not taken as a line end).
 * - Header fields: names lowercased, repeated fields joined with `, `; obs-fold (a line starting
 *   with a space), a name that is not a token, and CR, LF or NUL in a value are refused.
 * - Interim 1xx responses are skipped (100 Continue, 103 Early Hints); 101 is refused.
 * - Body framing by section 6.3: 204 and 304 have none; `Transfer-Encoding` whose final coding is
 *   chunked is read chunk by chunk (extensions ignored, trailer fields read and dropped); another
 *   final coding, or neither header, is read until the connection closes; else `Content-Length`.
 *   Content-Length with Transfer-Encoding, Transfer-Encoding in HTTP/1.0, and an invalid or
 *   conflicting Content-Length are refused (section 6.3 says to treat them as errors).
 *
 * Limits, so that a broken endpoint cannot make the process buffer without bound (SWF answers
 * a few hundred bytes): MAX_META_BYTES for everything that is not content (status lines and
 * header fields of the response and of its interim responses, chunk-size lines, trailer
 * fields), MAX_BODY_BYTES for the content. Over a limit is a protocol error.
 *
 * Cost: the head is scanned byte by byte for its end and parsed once, from one latin1 string,
 * when complete; body bytes are never scanned (a Content-Length body is taken as slices of the
 * chunks; only chunk framing is read byte by byte) and are copied once, at the end, when the
 * body arrived in more than one piece.
 */

/** Status line plus header fields (interim responses included), chunk-size lines and trailers. */
export const MAX_META_BYTES = 64 * 1024;
/** The response content (after chunked decoding). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A malformed or oversized response. The connection it came on cannot be used again. */
export class Http1ProtocolError extends Error {
  /** Like Node's own parser's codes (HPE_*): one code for every protocol error. */
  readonly code = 'HPE_INVALID_RESPONSE';
  override readonly name = 'Http1ProtocolError';
}

const CR = 0x0d;
const LF = 0x0a;
const EMPTY_BODY = Buffer.alloc(0);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

// Parser states.
/** No response expected: any byte is a protocol error (we never pipeline). */
const IDLE = 0;
const HEAD = 1;
const LENGTH_BODY = 2;
const UNTIL_CLOSE_BODY = 3;
const CHUNK_SIZE = 4;
/** After the size: chunk extensions (or whitespace before them), up to CR. */
const CHUNK_EXTENSION = 5;
const CHUNK_SIZE_LF = 6;
const CHUNK_DATA = 7;
const CHUNK_DATA_CR = 8;
const CHUNK_DATA_LF = 9;
const TRAILER_LINE_START = 10;
const TRAILER_LINE = 11;
const TRAILER_LINE_LF = 12;
const TRAILER_END_LF = 13;

/** tchar (RFC 9110 5.6.2): the characters of a field name. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[c.charCodeAt(0)] = 1;
}

export class Http1ResponseParser {
  /** The final response's status, once its head is complete; 0 before. */
  status = 0;
  /** The final response's header fields (lowercased names), once its head is complete. */
  headers: Readonly<Record<string, string>> = NO_HEADERS;
  /** The content, once the response is complete. */
  body: Buffer = EMPTY_BODY;
  /**
   * Once complete: whether the connection can carry another request (not `Connection: close`,
   * not HTTP/1.0 without keep-alive, not read until close, no bytes after the response).
   */
  keepAlive = false;

  private state = IDLE;
  /** Bytes of this response received so far (any kind). */
  private received = 0;
  private metaBytes = 0;
  /** Head bytes received before the chunk that completes the head. */
  private readonly headPieces: Buffer[] = [];
  /** How much of CR LF CR LF ends the bytes seen so far (0-3). */
  private headEndMatched = 0;
  private http10 = false;
  private readonly bodyPieces: Buffer[] = [];
  private bodyBytes = 0;
  /** Content bytes still due: of the Content-Length body, or of the current chunk. */
  private remaining = 0;
  private chunkSizeDigits = 0;

  /** A response is expected: the request is about to be written. */
  expect(): void {
    this.status = 0;
    this.headers = NO_HEADERS;
    this.body = EMPTY_BODY;
    this.keepAlive = false;
    this.state = HEAD;
    this.received = 0;
    this.metaBytes = 0;
    this.headPieces.length = 0;
    this.headEndMatched = 0;
    this.bodyPieces.length = 0;
    this.bodyBytes = 0;
  }

  /** A response was expected and is not complete yet. */
  get awaiting(): boolean {
    return this.state !== IDLE;
  }

  /** Bytes of the expected response have arrived (for telling a hang-up from a cut-off). */
  get started(): boolean {
    return this.received > 0;
  }

  /**
   * Feeds bytes from the connection. True when they complete the response (then read status,
   * headers, body and keepAlive). Throws Http1ProtocolError on a malformed response, and on
   * bytes when no response is expected.
   */
  push(chunk: Buffer): boolean {
    if (this.state === IDLE) throw new Http1ProtocolError(`${chunk.length} bytes received with no request outstanding`);
    this.received += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case HEAD:
          offset = this.readHead(chunk, offset);
          break;
        case LENGTH_BODY: {
          const end = Math.min(chunk.length, offset + this.remaining);
          this.addBody(chunk, offset, end);
          this.remaining -= end - offset;
          offset = end;
          if (this.remaining === 0) this.state = IDLE;
          break;
        }
        case UNTIL_CLOSE_BODY:
          this.addBody(chunk, offset, chunk.length);
          offset = chunk.length;
          break;
        case CHUNK_DATA: {
          const end = Math.min(chunk.length, offset + this.remaining);
          this.addBody(chunk, offset, end);
          this.remaining -= end - offset;
          offset = end;
          if (this.remaining === 0) this.state = CHUNK_DATA_CR;
          break;
        }
        default:
          offset = this.readChunkFraming(chunk, offset);
      }
      if (this.state === IDLE) return this.complete(offset < chunk.length);
    }
    return false;
  }

  /**
   * The connection closed (the peer's FIN). True when that completes the response (a body read
   * until close); false when no response was expected or it is incomplete.
   */
  end(): boolean {
    if (this.state !== UNTIL_CLOSE_BODY) return false;
    this.state = IDLE;
    return this.complete(false);
  }

  private complete(bytesLeft: boolean): true {
    const pieces = this.bodyPieces;
    this.body = pieces.length === 0 ? EMPTY_BODY : pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    pieces.length = 0;
    // Bytes after a complete response: the next push would be refused anyway; say now that the
    // connection is not reusable, and keep the response (node:http delivered it too).
    if (bytesLeft) this.keepAlive = false;
    return true;
  }

  private addBody(chunk: Buffer, start: number, end: number): void {
    if (end === start) return;
    this.bodyBytes += end - start;
    if (this.bodyBytes > MAX_BODY_BYTES) throw new Http1ProtocolError(`response body over ${MAX_BODY_BYTES} bytes`);
    this.bodyPieces.push(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
  }

  private addMeta(bytes: number): void {
    this.metaBytes += bytes;
    if (this.metaBytes > MAX_META_BYTES) {
      throw new Http1ProtocolError(`response head, chunk lines and trailers over ${MAX_META_BYTES} bytes`);
    }
  }

  /** Reads head bytes from `offset`; returns where the head's bytes end in `chunk`. */
  private readHead(chunk: Buffer, offset: number): number {
    let matched = this.headEndMatched;
    let end = -1;
    for (let i = offset; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === ((matched & 1) === 0 ? CR : LF)) {
        if (++matched === 4) {
          end = i + 1;
          break;
        }
      } else {
        matched = byte === CR ? 1 : 0;
      }
    }
    this.addMeta((end === -1 ? chunk.length : end) - offset);
    if (end === -1) {
      this.headEndMatched = matched;
      this.headPieces.push(offset === 0 ? chunk : chunk.subarray(offset));
      return chunk.length;
    }
    this.headEndMatched = 0;
    let text: string;
    if (this.headPieces.length === 0) {
      text = chunk.toString('latin1', offset, end - 4);
    } else {
      this.headPieces.push(chunk.subarray(offset, end));
      const head = Buffer.concat(this.headPieces);
      this.headPieces.length = 0;
      text = head.toString('latin1', 0, head.length - 4);
    }
    this.startBody(text);
    return end;
  }

  /** Parses a complete head (without its final CRLF CRLF) and decides how its body is framed. */
  private startBody(text: string): void {
    const lineEnd = text.indexOf('\r\n');
    const status = parseStatusLine(lineEnd === -1 ? text : text.slice(0, lineEnd));
    if (status.code === 101) throw new Http1ProtocolError('unexpected 101 Switching Protocols');
    if (status.code < 200) return; // interim: the final response's head follows
    const headers = lineEnd === -1 ? (Object.create(null) as Record<string, string>) : parseFields(text, lineEnd + 2);
    this.status = status.code;
    this.headers = headers;
    this.http10 = status.http10;
    const connection = headers['connection'];
    const tokens = connection === undefined ? undefined : connection.toLowerCase();
    this.keepAlive =
      tokens === undefined
        ? !this.http10
        : !hasToken(tokens, 'close') && (!this.http10 || hasToken(tokens, 'keep-alive'));

    if (status.code === 204 || status.code === 304) {
      this.state = IDLE;
      return;
    }
    const transferEncoding = headers['transfer-encoding'];
    const contentLength = headers['content-length'];
    if (transferEncoding !== undefined) {
      if (contentLength !== undefined) throw new Http1ProtocolError('both Transfer-Encoding and Content-Length');
      if (this.http10) throw new Http1ProtocolError('Transfer-Encoding in an HTTP/1.0 response');
      const codings = transferEncoding.toLowerCase();
      const finalCoding = codings.slice(codings.lastIndexOf(',') + 1).trim();
      if (finalCoding === 'chunked') {
        this.state = CHUNK_SIZE;
        this.remaining = 0;
        this.chunkSizeDigits = 0;
        return;
      }
      this.untilClose();
      return;
    }
    if (contentLength !== undefined) {
      const length = parseContentLength(contentLength);
      if (length > MAX_BODY_BYTES) throw new Http1ProtocolError(`response body over ${MAX_BODY_BYTES} bytes`);
      this.remaining = length;
      this.state = length === 0 ? IDLE : LENGTH_BODY;
      return;
    }
    this.untilClose();
  }

  private untilClose(): void {
    this.state = UNTIL_CLOSE_BODY;
    this.keepAlive = false;
  }

  /** Chunk-size lines, the CRLF after each chunk's data, and the trailer section. */
  private readChunkFraming(chunk: Buffer, offset: number): number {
    const start = offset;
    for (; offset < chunk.length && this.state !== CHUNK_DATA && this.state !== IDLE; offset++) {
      const byte = chunk[offset]!;
      switch (this.state) {
        case CHUNK_SIZE: {
          const digit = hexValue(byte);
          if (digit >= 0) {
            this.remaining = this.remaining * 16 + digit;
            this.chunkSizeDigits++;
            if (this.bodyBytes + this.remaining > MAX_BODY_BYTES) {
              throw new Http1ProtocolError(`response body over ${MAX_BODY_BYTES} bytes`);
            }
          } else if (this.chunkSizeDigits === 0) {
            throw new Http1ProtocolError('invalid chunk size');
          } else if (byte === CR) {
            this.state = CHUNK_SIZE_LF;
          } else if (byte === 0x3b /* ; */ || byte === 0x20 || byte === 0x09) {
            this.state = CHUNK_EXTENSION;
          } else {
            throw new Http1ProtocolError('invalid chunk size');
          }
          break;
        }
        case CHUNK_EXTENSION:
          if (byte === CR) this.state = CHUNK_SIZE_LF;
          else if (byte === LF) throw new Http1ProtocolError('bare LF in a chunk-size line');
          break;
        case CHUNK_SIZE_LF:
          expectByte(byte, LF, 'chunk-size line');
          this.state = this.remaining === 0 ? TRAILER_LINE_START : CHUNK_DATA;
          break;
        case CHUNK_DATA_CR:
          expectByte(byte, CR, 'chunk data');
          this.state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          expectByte(byte, LF, 'chunk data');
          this.state = CHUNK_SIZE;
          this.chunkSizeDigits = 0;
          break;
        case TRAILER_LINE_START:
          this.state = byte === CR ? TRAILER_END_LF : TRAILER_LINE;
          if (byte === LF) throw new Http1ProtocolError('bare LF in the trailer section');
          break;
        case TRAILER_LINE:
          if (byte === CR) this.state = TRAILER_LINE_LF;
          else if (byte === LF) throw new Http1ProtocolError('bare LF in the trailer section');
          break;
        case TRAILER_LINE_LF:
          expectByte(byte, LF, 'trailer field');
          this.state = TRAILER_LINE_START;
          break;
        case TRAILER_END_LF:
          expectByte(byte, LF, 'trailer section');
          this.state = IDLE;
          break;
      }
    }
    this.addMeta(offset - start);
    return offset;
  }
}

function expectByte(byte: number, expected: number, where: string): void {
  if (byte !== expected) throw new Http1ProtocolError(`expected ${expected === CR ? 'CR' : 'LF'} after the ${where}`);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** `HTTP/1.x SP 3DIGIT [SP reason-phrase]` (a missing reason phrase is accepted, space or not). */
function parseStatusLine(line: string): { code: number; http10: boolean } {
  const minor = line.charCodeAt(7);
  const valid =
    line.startsWith('HTTP/1.') &&
    (minor === 0x30 || minor === 0x31) &&
    line.charCodeAt(8) === 0x20 &&
    isDigit(line.charCodeAt(9), 0x31, 0x35) &&
    isDigit(line.charCodeAt(10), 0x30, 0x39) &&
    isDigit(line.charCodeAt(11), 0x30, 0x39) &&
    (line.length === 12 || line.charCodeAt(12) === 0x20) &&
    !hasForbiddenChar(line, 12, line.length);
  if (!valid) throw new Http1ProtocolError(`invalid status line ${JSON.stringify(line.slice(0, 100))}`);
  return { code: Number(line.slice(9, 12)), http10: minor === 0x30 };
}

function isDigit(code: number, low: number, high: number): boolean {
  return code >= low && code <= high;
}

/** The field lines of `text` from `start`: `name ":" OWS value OWS`, CRLF separated. */
function parseFields(text: string, start: number): Record<string, string> {
  const headers = Object.create(null) as Record<string, string>;
  let pos = start;
  while (pos <= text.length) {
    let eol = text.indexOf('\r\n', pos);
    if (eol === -1) eol = text.length;
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > eol) {
      const line = JSON.stringify(text.slice(pos, Math.min(eol, pos + 100)));
      const first = text.charCodeAt(pos);
      throw new Http1ProtocolError(
        first === 0x20 || first === 0x09 ? `obs-fold (folded header line) ${line}` : `invalid header line ${line}`,
      );
    }
    for (let i = pos; i < colon; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TOKEN[c] !== 1) {
        throw new Http1ProtocolError(`invalid header name ${JSON.stringify(text.slice(pos, colon))}`);
      }
    }
    let valueStart = colon + 1;
    let valueEnd = eol;
    while (valueStart < valueEnd && isOws(text.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isOws(text.charCodeAt(valueEnd - 1))) valueEnd--;
    const name = text.slice(pos, colon).toLowerCase();
    if (hasForbiddenChar(text, valueStart, valueEnd)) {
      throw new Http1ProtocolError(`CR, LF or NUL in the value of header ${name}`);
    }
    const value = text.slice(valueStart, valueEnd);
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
    pos = eol + 2;
  }
  return headers;
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** CR, LF or NUL: never valid in a field value or reason phrase (RFC 9110 5.5). */
function hasForbiddenChar(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) return true;
  }
  return false;
}

/** 1*DIGIT, or a list of identical values (`42, 42`, RFC 9110 8.6); anything else is refused. */
function parseContentLength(value: string): number {
  let length = -1;
  for (const part of value.split(',')) {
    const digits = part.trim();
    let n = 0;
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (c < 0x30 || c > 0x39) throw new Http1ProtocolError(`invalid Content-Length ${JSON.stringify(value)}`);
      // Stop growing past the body limit: the caller refuses it, and it stays a safe integer.
      if (n <= MAX_BODY_BYTES) n = n * 10 + (c - 0x30);
    }
    if (digits.length === 0 || (length !== -1 && n !== length)) {
      throw new Http1ProtocolError(`invalid Content-Length ${JSON.stringify(value)}`);
    }
    length = n;
  }
  return length;
}

/** Whether a comma-separated, lowercased list holds `token`. */
function hasToken(list: string, token: string): boolean {
  let from = 0;
  while (from <= list.length) {
    let comma = list.indexOf(',', from);
    if (comma === -1) comma = list.length;
    if (list.slice(from, comma).trim() === token) return true;
    from = comma + 1;
  }
  return false;
}
