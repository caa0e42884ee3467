import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { ensureStack, stackAddresses } from '@oms/testing';
import { LazyDatabase } from './lazy-database';

test('a service that starts while its database is away waits for it instead of failing', async () => {
  await ensureStack({ only: ['mongo'] });
  const mongo = new URL((await stackAddresses()).MONGO_URL!);
  // A relay that refuses connections at first, like a database being restarted, then forwards.
  const { port } = await new Promise<AddressInfo>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address() as AddressInfo;
      probe.close(() => resolve(address));
    });
  });
  const database = new LazyDatabase({
    url: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    service: 'lazy-test',
    deployment: 'unit',
  });
  const connecting = database.db();
  await new Promise((resolve) => setTimeout(resolve, 6000)); // longer than one server selection (5 s)
  const { connect } = await import('node:net');
  const relay = createServer((client) => {
    const upstream = connect(Number(mongo.port || 27017), mongo.hostname);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  }).listen(port, '127.0.0.1');
  try {
    const db = await connecting;
    assert.equal((await db.command({ ping: 1 })).ok, 1);
  } finally {
    await database.close();
    relay.close();
  }
});
