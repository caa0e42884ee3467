// Against the real Consul agent of the local stack: discovery by name, round-robin over every
// passing instance, removal on deregistration, and a clean UNAVAILABLE when none is left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import pino from 'pino';
import { MenuServiceService } from '@oms/contracts';
import { createTargetPolicy } from '@oms/resilience';
import { createRpcClient, RpcError } from '@oms/rpc';
import { ensureStack, stackAddresses, uniqueDeployment, waitFor } from '@oms/testing';
import { ConsulClient, ServiceCatalog, consulTarget, registerConsulResolver } from './index';

const deployment = uniqueDeployment('disc');
const tag = `env-${deployment}`;
let consul: ConsulClient;
let catalog: ServiceCatalog;
const servers: { id: string; server: Server; port: number }[] = [];

async function startMenuInstance(id: string): Promise<void> {
  const server = new Server();
  server.addService(MenuServiceService, {
    listItems: (_call: unknown, callback: (e: null, r: unknown) => void) =>
      callback(null, { items: [{ id, name: id, description: '', priceCents: 1, currency: 'usd' }] }),
  });
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  await consul.register({
    id,
    name: 'menu',
    tags: [tag],
    address: '127.0.0.1',
    port,
    checkIntervalSeconds: 1,
    deregisterCriticalAfterSeconds: 30,
  });
  servers.push({ id, server, port });
}

before(async () => {
  await ensureStack();
  consul = new ConsulClient((await stackAddresses()).CONSUL_URL!);
  catalog = new ServiceCatalog(consul, tag, pino({ level: 'silent' }));
  registerConsulResolver(catalog);
  await startMenuInstance(`${deployment}-a`);
  await startMenuInstance(`${deployment}-b`);
});

after(async () => {
  catalog.close();
  for (const { id, server } of servers) {
    await consul.deregister(id).catch(() => undefined);
    server.forceShutdown();
  }
});

test('calls by name are balanced over every passing instance; a deregistered one gets no more calls; none left is UNAVAILABLE', async () => {
  const client = createRpcClient(MenuServiceService, {
    service: 'menu',
    target: consulTarget('menu'),
    policy: createTargetPolicy({
      retryAttempts: 2,
      breakerFailures: 100,
      breakerHalfOpenMs: 1000,
      bulkheadLimit: 16,
      bulkheadQueue: 64,
    }),
    defaultTimeoutMs: 2000,
    idempotent: ['listItems'],
    hasInstances: () => catalog.current('menu')?.length !== 0,
  });
  try {
    catalog.subscribe('menu', () => undefined);
    await waitFor('both instances passing', () => catalog.current('menu')?.length === 2, {
      timeoutMs: 10_000,
    });
    const seen = new Map<string, number>();
    await waitFor('calls reaching both instances', async () => {
      for (let i = 0; i < 20; i++) {
        const { items } = await client.listItems({});
        seen.set(items[0]!.id, (seen.get(items[0]!.id) ?? 0) + 1);
      }
      return seen.size === 2;
    });
    assert.deepEqual([...seen.keys()].sort(), [`${deployment}-a`, `${deployment}-b`]);

    await consul.deregister(`${deployment}-a`);
    await waitFor('instance a gone from the catalog', () => catalog.current('menu')?.length === 1);
    for (let i = 0; i < 20; i++) assert.equal((await client.listItems({})).items[0]!.id, `${deployment}-b`);

    await consul.deregister(`${deployment}-b`);
    await waitFor('no instance left', () => catalog.current('menu')?.length === 0);
    await assert.rejects(
      client.listItems({}),
      (e: unknown) => e instanceof RpcError && e.code === status.UNAVAILABLE,
    );
  } finally {
    client.close();
  }
});
