import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { MongoClient, MongoServerError } from 'mongodb';
import { ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { ensureIndexes, isDatabaseUnavailable, whileDatabaseStarts } from './index';

/** A loopback port nothing listens on (until a test opens it). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A plain TCP relay on `port` to the stack's database: the database is "back" there while it runs. */
interface Relay {
  /** The database goes away: the listener and every connection through it close. */
  close(): Promise<void>;
}

function relayTo(port: number, target: URL): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 27017), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ close })));
}

describe('start-up commands while the database is away', () => {
  let stackUrl: URL;
  let port: number;
  let client: MongoClient;
  let relay: Relay | undefined;
  const database = uniqueDeployment('indexes').replace(/-/g, '_');

  before(async () => {
    await ensureStack({ only: ['mongo'] });
    stackUrl = new URL((await stackAddresses()).MONGO_URL!.replace(/^mongodb:/, 'http:'));
    port = await freePort();
    relay = await relayTo(port, stackUrl);
    // As a service is when its setup runs: connected, with a short server selection so that each
    // try fails fast once the database is away.
    client = new MongoClient(`mongodb://127.0.0.1:${port}`, {
      serverSelectionTimeoutMS: 300,
      retryWrites: false,
    });
    await client.connect();
    // The database goes away (a restart).
    await relay.close();
    relay = undefined;
  });

  after(async () => {
    if (relay) await client.db(database).dropDatabase();
    await client.close();
    await relay?.close();
  });

  test('gives up with the last error once its budget is spent', async () => {
    const started = Date.now();
    const error = await ensureIndexes(client.db(database).collection('things'), [{ keys: { kind: 1 } }], {
      budgetMs: 1000,
      firstPauseMs: 100,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isDatabaseUnavailable(error), String(error));
    assert.ok(Date.now() - started >= 700, 'it kept trying for most of the budget');
  });

  test('makes the indexes once the database is back', async () => {
    const things = client.db(database).collection('things');
    const made = ensureIndexes(
      things,
      [{ keys: { kind: 1 } }, { keys: { owner: 1, at: -1 }, options: { name: 'by_owner', unique: true } }],
      { firstPauseMs: 100 },
    );
    let settled = false;
    void made.finally(() => (settled = true)).catch(() => undefined);
    // Its first tries fail while nothing answers; then the database comes back.
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(settled, false, 'still waiting for the database');
    relay = await relayTo(port, stackUrl);
    await made;
    const names = (await things.listIndexes().toArray()).map((index) => index.name as string).sort();
    assert.deepEqual(names, ['_id_', 'by_owner', 'kind_1']);
  });

  test('an error of the command itself goes to the caller at once', async () => {
    assert.ok(relay, 'runs after the database came back');
    let attempts = 0;
    await assert.rejects(
      whileDatabaseStarts(() => {
        attempts += 1;
        // The same name for other keys: the server refuses it.
        return client.db(database).collection('things').createIndex({ other: 1 }, { name: 'by_owner' });
      }),
      MongoServerError,
    );
    assert.equal(attempts, 1);
  });
});
