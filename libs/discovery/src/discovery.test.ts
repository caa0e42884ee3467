// Against the real Consul agent of the local stack: discovery by name, round-robin over every
// passing instance, removal on deregistration, and a clean UNAVAILABLE when none is left; the
// catalog's watch through a TCP relay that the test cuts, to see Consul become unreachable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
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

async function startMenuInstance(id: string, instanceTag = tag): Promise<number> {
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
    tags: [instanceTag],
    address: '127.0.0.1',
    port,
    checkIntervalSeconds: 1,
    deregisterCriticalAfterSeconds: 30,
  });
  servers.push({ id, server, port });
  return port;
}

/** Forwards a local port to Consul; `cut()` drops every connection and refuses new ones. */
class ConsulRelay {
  private readonly sockets = new Set<Socket>();
  private server?: TcpServer;
  port = 0;

  constructor(private readonly consulUrl: URL) {}

  get openConnections(): number {
    return this.sockets.size;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.consulUrl.port), this.consulUrl.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address === 'object' && address) this.port = address.port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

before(async () => {
  await ensureStack({ only: ['consul'] });
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

test('a watch sees a new instance, keeps the last known list while Consul is unreachable, catches up after, and closes its open query', async () => {
  const watchTag = `${tag}-watch`;
  const relay = new ConsulRelay(new URL((await stackAddresses()).CONSUL_URL!));
  await relay.open();
  const warnings: string[] = [];
  const logSink = new Writable({
    write: (line: Buffer, _encoding, done) => {
      warnings.push(String(line));
      done();
    },
  });
  const watched = new ServiceCatalog(
    new ConsulClient(`http://127.0.0.1:${relay.port}`),
    watchTag,
    pino({ level: 'warn' }, logSink),
  );
  const updates: number[] = [];
  try {
    watched.subscribe('menu', (endpoints) => updates.push(endpoints.length));
    await waitFor('the first answer: no instance yet', () => watched.current('menu')?.length === 0);

    const firstPort = await startMenuInstance(`${deployment}-c`, watchTag);
    const [seen] = await waitFor(
      'the new instance',
      () => watched.current('menu')?.length === 1 && watched.current('menu'),
    );
    assert.deepEqual(seen, { host: '127.0.0.1', port: firstPort });

    await relay.cut();
    await waitFor('the catalog noticing Consul is unreachable', () =>
      warnings.some((line) => line.includes('consul unreachable')),
    );
    await startMenuInstance(`${deployment}-d`, watchTag);
    assert.deepEqual(watched.current('menu'), [seen], 'the last known instance keeps serving');
    assert.deepEqual(updates, [0, 1], 'an unreachable Consul reads as no change, not as no instance');

    await relay.open();
    await waitFor(
      'the instance registered while Consul was unreachable',
      () => watched.current('menu')?.length === 2,
      {
        timeoutMs: 20_000,
      },
    );

    await waitFor('the blocking query open through the relay', () => relay.openConnections > 0);
    watched.close();
    // The query would otherwise stay open for its 30 s wait, holding the process up at shutdown.
    await waitFor('the open query closed', () => relay.openConnections === 0, { timeoutMs: 2000 });
  } finally {
    watched.close();
    await relay.cut();
  }
});
