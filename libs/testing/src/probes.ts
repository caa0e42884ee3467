import { randomBytes } from 'node:crypto';
import { credentials, loadPackageDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/** A fresh OMS_ENV: its own Consul tag and databases, so tests never see each other's instances. */
export function uniqueDeployment(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function passingInstances(
  consulUrl: string,
  service: string,
  deployment: string,
): Promise<{ id: string; address: string; port: number }[]> {
  const response = await fetch(
    `${consulUrl}/v1/health/service/${service}?passing=true&tag=env-${deployment}`,
  );
  if (!response.ok) throw new Error(`consul answered ${response.status}`);
  const entries = (await response.json()) as { Service: { ID: string; Address: string; Port: number } }[];
  return entries.map((e) => ({ id: e.Service.ID, address: e.Service.Address, port: e.Service.Port }));
}

interface HealthClient {
  check(
    request: { service: string },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
  close(): void;
}
type HealthClientConstructor = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => HealthClient;

/** Calls grpc.health.v1.Health/Check on an instance: 'SERVING', 'NOT_SERVING', ... */
export async function grpcHealthStatus(address: string): Promise<string> {
  const definition = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: HealthClientConstructor } } };
  };
  const client = new definition.grpc.health.v1.Health(address, credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) =>
      client.check({ service: '' }, (error, response) => (error ? reject(error) : resolve(response!.status))),
    );
  } finally {
    client.close();
  }
}

export async function jaegerServices(queryUrl: string): Promise<string[]> {
  const response = await fetch(`${queryUrl}/api/services`);
  if (!response.ok) throw new Error(`jaeger answered ${response.status}`);
  return ((await response.json()) as { data: string[] | null }).data ?? [];
}
