import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';

export const PROTO_FILE = 'swfsidecar/v1/sidecar.proto';

/** The package's proto/ folder, found from here whether running from src/ (tsx) or dist/src/. */
export const PROTO_ROOT = findProtoRoot(dirname(fileURLToPath(import.meta.url)));

function findProtoRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', PROTO_FILE))) return join(dir, 'proto');
  }
  throw new Error(`cannot find proto/${PROTO_FILE} above ${start}`);
}
export const SERVICE_NAME = 'swfsidecar.v1.ActivityTasks';

/** Wire enums of the contract, as proto-loader gives them with `enums: String`. */
export type WireDelivery = 'DELIVERY_UNSPECIFIED' | 'DELIVERY_CONFIRMED' | 'DELIVERY_QUEUED';
export type WireOutcome = 'OUTCOME_UNSPECIFIED' | 'OUTCOME_DELIVERED' | 'OUTCOME_QUEUED';

/** FailActivityTaskRequest as proto-loader decodes it: absent optional fields are undefined. */
export interface WireFailRequest {
  taskToken?: string;
  reason?: string;
  details?: string;
  delivery?: WireDelivery | number;
}
export interface WireFailResponse {
  outcome: WireOutcome;
  attempts: number;
}
export interface WireFailBatchRequest {
  tasks?: WireFailRequest[];
}
export interface WireFailResult {
  code: number;
  message: string;
  outcome: WireOutcome;
  attempts: number;
}
export interface WireFailBatchResponse {
  results: WireFailResult[];
}

/**
 * `defaults: false` keeps "absent" distinct from "" for the optional reason and details;
 * `enums: String` gives enum names; `longs: Number` because uint32 fits a JS number.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: false,
  includeDirs: [PROTO_ROOT],
};

export function loadContract(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);
}

/** The ActivityTasks service of a loaded contract. */
export function activityTasksDefinition(definition: protoLoader.PackageDefinition): protoLoader.ServiceDefinition {
  const service = definition[SERVICE_NAME];
  if (service === undefined || !('FailActivityTask' in service)) {
    throw new Error(`${SERVICE_NAME} is missing from the loaded contract`);
  }
  return service;
}

/**
 * What server reflection describes: the contract with the field names the .proto declares
 * (`task_token`; the handlers' definition above uses lowerCamelCase, and a descriptor built from
 * it would tell grpcurl and other reflection clients the wrong JSON names), and grpc.health.v1,
 * so `grpcurl list` shows every service the server answers.
 */
export function loadReflectedContract(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([PROTO_FILE, HEALTH_PROTO_FILE], {
    ...LOADER_OPTIONS,
    keepCase: true,
    includeDirs: [PROTO_ROOT, HEALTH_PROTO_ROOT],
  });
}

/** grpc-health-check's copy of grpc/health/v1/health.proto (the service it implements). */
const HEALTH_PROTO_FILE = 'health/v1/health.proto';
const HEALTH_PROTO_ROOT = join(
  dirname(createRequire(import.meta.url).resolve('grpc-health-check')),
  '..',
  '..',
  'proto',
);

/** The generated client constructor for ActivityTasks (used by the CLI and tests). */
export function activityTasksClientConstructor(
  definition: protoLoader.PackageDefinition = loadContract(),
): ServiceClientConstructor {
  const root = loadPackageDefinition(definition) as unknown as { swfsidecar: { v1: GrpcObject } };
  return root.swfsidecar.v1['ActivityTasks'] as ServiceClientConstructor;
}
