import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

type Unary = (request: unknown, callback: (error: ServiceError | null, response: unknown) => void) => void;

/** grpc.health.v1.Health/Check against `address`; resolves with the status name. */
export async function healthStatus(address: string, service = ''): Promise<string> {
  const protoPath = join(dirname(require.resolve('grpc-health-check/package.json')), 'proto/health/v1/health.proto');
  const definition = protoLoader.loadSync(protoPath, { enums: String });
  const root = loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: new (a: string, c: unknown) => Client } } };
  };
  const client = new root.grpc.health.v1.Health(address, credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) =>
      (client as unknown as { check: Unary }).check({ service }, (error, response) =>
        error ? reject(error) : resolve((response as { status: string }).status),
      ),
    );
  } finally {
    client.close();
  }
}

/** Lists services through grpc.reflection.v1 (what grpcurl does). */
export async function reflectedServices(address: string): Promise<string[]> {
  const protoPath = join(
    dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection/v1/reflection.proto',
  );
  const definition = protoLoader.loadSync(protoPath, { keepCase: true });
  const root = loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (a: string, c: unknown) => Client } } };
  };
  const client = new root.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const stream = (
        client as unknown as {
          ServerReflectionInfo: () => NodeJS.ReadWriteStream & { end(): void; write(m: unknown): void };
        }
      ).ServerReflectionInfo();
      stream.on('data', (message: { list_services_response?: { service: { name: string }[] } }) => {
        resolve((message.list_services_response?.service ?? []).map((service) => service.name));
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ list_services: '' });
    });
  } finally {
    client.close();
  }
}
