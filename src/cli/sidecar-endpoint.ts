import { UsageError } from './respond-args.js';

/** Where the CLI connects: a TCP host and port, or a unix socket path. */
export type SidecarEndpoint =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly authority: string }
  | { readonly kind: 'unix'; readonly path: string; readonly authority: string };

/** grpc-js's default port when a target names none. */
const DEFAULT_PORT = 443;

/**
 * Parses an endpoint in the forms gRPC clients take (and the CLI took when it was built on
 * grpc-js): HOST:PORT, [IPv6]:PORT, HOST alone (port 443), dns:HOST:PORT, dns:///HOST:PORT,
 * ipv4:ADDRESS:PORT, ipv6:[ADDRESS]:PORT, unix:PATH and unix:///ABSOLUTE-PATH. Anything else is
 * a usage error, so a typo is told apart from a sidecar that is down.
 */
export function parseSidecarEndpoint(text: string): SidecarEndpoint {
  const bad = (why: string): UsageError =>
    new UsageError(`endpoint ${JSON.stringify(text)}: ${why}; expected HOST:PORT or unix:/path`);
  if (text.startsWith('unix:')) {
    const path = text.startsWith('unix://') ? text.slice('unix://'.length) : text.slice('unix:'.length);
    if (path === '' || (text.startsWith('unix://') && !path.startsWith('/'))) throw bad('no socket path');
    return { kind: 'unix', path, authority: 'localhost' };
  }
  let rest = text;
  for (const scheme of ['dns:///', 'dns:', 'ipv4:', 'ipv6:']) {
    if (rest.startsWith(scheme)) {
      rest = rest.slice(scheme.length);
      break;
    }
  }
  const { host, portText } = splitHostPort(rest);
  if (host === '' || /[\s/@?#]/.test(host)) throw bad('no host name');
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!/^\d{1,5}$/.test(portText ?? '443') || port < 1 || port > 65535) throw bad('the port is not 1-65535');
  const hostInAuthority = host.includes(':') ? `[${host}]` : host;
  return { kind: 'tcp', host, port, authority: `${hostInAuthority}:${port}` };
}

function splitHostPort(text: string): { host: string; portText: string | undefined } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { host: '', portText: undefined };
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return { host: '', portText: undefined };
    return { host: text.slice(1, close), portText: after === '' ? undefined : after.slice(1) };
  }
  const colons = text.split(':').length - 1;
  if (colons === 0) return { host: text, portText: undefined };
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (colons > 1) return { host: text, portText: undefined };
  const colon = text.indexOf(':');
  return { host: text.slice(0, colon), portText: text.slice(colon + 1) };
}
