import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { createServer, type AddressInfo } from 'node:net';
import { MongoClient, MongoServerError } from 'mongodb';
import {
  connectDatabase,
  databaseName,
  isDatabaseUnavailable,
  isDuplicateKeyError,
  POOL_MAINTENANCE_INTERVAL_MS,
} from './index';
import { serverNeedsTurns } from './document-turns';

/** A database of its own on the stack's server, connected as the services connect. */
async function connectOnStack() {
  await ensureStack({ only: ['mongo'] });
  return connectDatabase({
    url: (await stackAddresses()).MONGO_URL!,
    service: 'persistence',
    deployment: uniqueDeployment('db'),
  });
}

test('each service gets its own database per deployment', () => {
  assert.equal(databaseName('order', 'local'), 'order_local');
  assert.equal(databaseName('stock', 't-1a2b'), 'stock_t_1a2b');
});

test('the driver looks after the connection pool every few seconds, not ten times a second', async () => {
  const database = await connectOnStack();
  try {
    await database.db.command({ ping: 1 });
    // Internals, on purpose: what counts is the interval the pool really runs with.
    const topology = (
      database.db.client as unknown as { topology?: { s: { servers: Map<string, unknown> } } }
    ).topology;
    const pools = [...(topology?.s.servers.values() ?? [])].map(
      (server) => (server as { pool: { options: { minPoolSizeCheckFrequencyMS?: number } } }).pool,
    );
    assert.ok(pools.length > 0, 'the driver has a pool per server');
    for (const pool of pools)
      assert.equal(pool.options.minPoolSizeCheckFrequencyMS, POOL_MAINTENANCE_INTERVAL_MS);
  } finally {
    await database.close();
  }
});

test('a duplicate _id on the real server is recognised as a duplicate key', async () => {
  const database = await connectOnStack();
  try {
    const collection = database.db.collection<{ _id: string }>('things');
    await collection.insertOne({ _id: 'a' });
    const error = await collection.insertOne({ _id: 'a' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isDuplicateKeyError(error), String(error));
    assert.equal(isDuplicateKeyError(new Error('other')), false);
  } finally {
    await database.db.dropDatabase();
    await database.close();
  }
});

test('a database that does not answer is recognised as unavailable; a refusal by a server that answers is not', async () => {
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const away = new MongoClient(`mongodb://127.0.0.1:${closedPort}`, { serverSelectionTimeoutMS: 300 });
  const error = await away.connect().then(
    () => undefined,
    (e: unknown) => e,
  );
  await away.close();
  assert.ok(isDatabaseUnavailable(error), String(error));
  assert.equal(
    isDatabaseUnavailable(new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key' })),
    false,
  );
  assert.equal(isDatabaseUnavailable(new Error('other')), false);
});

test('writes take turns in the process while the server cannot be asked what it is', async () => {
  const client = new MongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 200 });
  try {
    assert.equal(await serverNeedsTurns(client), true);
  } finally {
    await client.close();
  }
});
