import { HmacSha256, sha256Hex } from '../sha256.js';

/** What signing needs of an AWS identity (the SDK's AwsCredentialIdentity has these fields). */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface SigV4JsonSignerOptions {
  /** Signing region, e.g. us-east-1. */
  readonly region: string;
  /** Signing name, e.g. swf. */
  readonly service: string;
  /** The Host header as sent: hostname, plus `:port` when not the scheme's default. */
  readonly host: string;
  /** Request path as sent, e.g. `/` (already percent-encoded, as in a URL). */
  readonly path: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const JSON_1_0 = 'application/x-amz-json-1.0';

/**
 * SigV4 (AWS4-HMAC-SHA256) for the one request shape of the AWS JSON 1.0 protocol: `POST PATH`
 * without a query string, signing content-type, host, x-amz-date, x-amz-security-token (when the
 * credentials have one) and x-amz-target. It produces the same signature as the SDK's own
 * `SignatureV4` for those headers (test/swf/aws-swf-port.test.ts checks it against
 * @smithy/signature-v4).
 *
 * Why not the SDK's signer: it clones the request, filters every header through regexes, and
 * recomputes an HMAC per call just to look its signing-key cache up; this one keeps the
 * canonical request template and the day's signing key, so a call costs two SHA-256 and one
 * HMAC (see the figures in aws-swf-port.ts), all one-shot: no native hash object a call (see
 * src/sha256.ts).
 */
export class SigV4JsonSigner {
  private readonly canonicalPath: string;
  /** The day's key (4 HMACs to derive): valid for one secret, day, region and service. */
  private signingKey: { secret: string; day: string; hmac: HmacSha256 } | undefined;
  /** x-amz-date changes once a second; cached by second. */
  private amzDate = { second: Number.NaN, value: '' };

  constructor(private readonly options: SigV4JsonSignerOptions) {
    this.canonicalPath = canonicalPath(options.path);
  }

  /**
   * The headers to send for `body` (a string is hashed as UTF-8; pass the Buffer that is sent
   * to encode it once) to `target` (X-Amz-Target), signed at `signingDateMs` (epoch ms, already
   * corrected for clock skew): content-type, host, x-amz-date, x-amz-target, authorization and
   * x-amz-security-token (if any), in that order. The caller adds
   * content-length and user-agent (neither is signed: user-agent never is).
   */
  sign(
    credentials: SigningCredentials,
    target: string,
    body: string | Buffer,
    signingDateMs: number,
  ): Record<string, string> {
    const { region, service, host } = this.options;
    const amzDate = this.formatAmzDate(signingDateMs);
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${region}/${service}/aws4_request`;
    const token = credentials.sessionToken;
    const hasToken = token !== undefined && token !== '';
    const signedHeaders = hasToken
      ? 'content-type;host;x-amz-date;x-amz-security-token;x-amz-target'
      : 'content-type;host;x-amz-date;x-amz-target';
    const canonicalRequest =
      `POST\n${this.canonicalPath}\n\n` +
      `content-type:${JSON_1_0}\nhost:${host}\nx-amz-date:${amzDate}\n` +
      (hasToken ? `x-amz-security-token:${canonicalValue(token)}\n` : '') +
      `x-amz-target:${target}\n\n${signedHeaders}\n${sha256Hex(body)}`;
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = this.key(credentials.secretAccessKey, day).hex(stringToSign);
    const headers: Record<string, string> = {
      'content-type': JSON_1_0,
      host,
      'x-amz-date': amzDate,
      'x-amz-target': target,
      authorization: `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    };
    if (hasToken) headers['x-amz-security-token'] = token;
    return headers;
  }

  private key(secret: string, day: string): HmacSha256 {
    const cached = this.signingKey;
    if (cached !== undefined && cached.day === day && cached.secret === secret) return cached.hmac;
    const key = [day, this.options.region, this.options.service, 'aws4_request'].reduce<Buffer | string>(
      (k, part) => new HmacSha256(k).digest(part),
      `AWS4${secret}`,
    );
    const hmac = new HmacSha256(key);
    this.signingKey = { secret, day, hmac };
    return hmac;
  }

  /** `YYYYMMDDTHHMMSSZ` (ISO 8601 basic, UTC). */
  private formatAmzDate(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.amzDate.second) {
      const iso = new Date(second * 1000).toISOString(); // 2026-11-25T11:32:02.000Z
      const value = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
      this.amzDate = { second, value };
    }
    return this.amzDate.value;
  }
}

/** SigV4 header value: runs of spaces and tabs (and line breaks) collapsed, ends trimmed. */
function canonicalValue(value: string): string {
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

/**
 * The canonical URI as the SDK's SignatureV4 builds it (uriEscapePath true, every service but
 * S3): `.` and `..` segments resolved, empty segments dropped, then the already-encoded path
 * URI-encoded once more, keeping the slashes.
 */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** RFC 3986 encoding (encodeURIComponent leaves !'()* as they are; SigV4 does not). */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
