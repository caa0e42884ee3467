// For the tests of this library: a menu service on loopback, served by `unaryService`, and a
// client of it (a real grpc-js server and client; nothing is faked).
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { MenuServiceService } from '@oms/contracts';
import { createTargetPolicy, type TargetPolicy } from '@oms/resilience';
import { createRpcClient, type RpcClient } from './client';

/** Serves `implementation` (as unaryService makes it) on a free loopback port. */
export async function serveMenu(
  implementation: UntypedServiceImplementation,
): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(MenuServiceService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

/** A policy that lets every call through once: no retries, a breaker that does not open. */
export const passThroughPolicy = (): TargetPolicy =>
  createTargetPolicy({
    retryAttempts: 0,
    breakerFailures: 100,
    breakerHalfOpenMs: 1000,
    bulkheadLimit: 8,
    bulkheadQueue: 8,
  });

export function menuClient(
  port: number,
  idempotent: readonly (keyof typeof MenuServiceService)[],
  policy: TargetPolicy = passThroughPolicy(),
): RpcClient<typeof MenuServiceService> {
  return createRpcClient(MenuServiceService, {
    service: 'menu',
    target: `127.0.0.1:${port}`,
    policy,
    defaultTimeoutMs: 1500,
    idempotent,
  });
}
