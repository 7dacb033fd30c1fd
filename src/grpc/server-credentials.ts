import { readFile } from 'node:fs/promises';
import { ServerCredentials } from '@grpc/grpc-js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** When set, clients must present a certificate this CA signed (mutual TLS). */
  readonly clientCaFile: string;
}

/**
 * Plaintext when no certificate is configured (the default: the sidecar listens on loopback or
 * a unix socket inside the pod); TLS, or mutual TLS with a client CA, otherwise. Files are read
 * once at start-up, so a missing file stops the start with its path in the error.
 */
export async function loadServerCredentials(files: TlsFiles): Promise<ServerCredentials> {
  if (files.certFile === '') return ServerCredentials.createInsecure();
  const [cert, key, clientCa] = await Promise.all([
    readPem(files.certFile, 'SWF_SIDECAR_TLS_CERT_FILE'),
    readPem(files.keyFile, 'SWF_SIDECAR_TLS_KEY_FILE'),
    files.clientCaFile === '' ? Promise.resolve(null) : readPem(files.clientCaFile, 'SWF_SIDECAR_TLS_CLIENT_CA_FILE'),
  ]);
  return ServerCredentials.createSsl(clientCa, [{ cert_chain: cert, private_key: key }], clientCa !== null);
}

async function readPem(path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`${setting}: cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
