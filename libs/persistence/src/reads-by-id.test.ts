import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type CommandStartedEvent, type Document } from 'mongodb';
import { ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { ReadsById } from './reads-by-id';

interface Thing {
  _id: string;
  n: number;
  secret?: string;
}

const clients: MongoClient[] = [];
after(() => Promise.all(clients.map((client) => client.close())));

/** A collection on the stack's server, and the find commands its client sends. */
async function things() {
  await ensureStack({ only: ['mongo'] });
  const client = new MongoClient((await stackAddresses()).MONGO_URL!, {
    monitorCommands: true,
    retryWrites: false,
  });
  clients.push(client);
  const finds: Document[] = [];
  client.on('commandStarted', (event: CommandStartedEvent) => {
    if (event.commandName === 'find') finds.push(event.command);
  });
  const db = client.db(`reads_${uniqueDeployment('r').replace(/\W/g, '_')}`);
  const collection = db.collection<Thing>('things');
  await collection.insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: `t${i}`, n: i, secret: `s${i}` })));
  finds.length = 0;
  return { collection, finds, drop: () => db.dropDatabase() };
}

test('reads made together are one find by $in, and each gets its own document or null', async () => {
  const { collection, finds, drop } = await things();
  try {
    const reads = new ReadsById(collection);
    const got = await Promise.all(['t1', 'missing', 't3', 't1', 't0'].map((id) => reads.get(id)));
    assert.deepEqual(
      got.map((doc) => doc?.n ?? null),
      [1, null, 3, 1, 0],
    );
    assert.equal(finds.length, 1, JSON.stringify(finds));
    assert.deepEqual(finds[0]!.filter, { _id: { $in: ['t1', 'missing', 't3', 't0'] } });
  } finally {
    await drop();
  }
});

test('a read alone is a plain find by _id, and reads in later turns are finds of their own', async () => {
  const { collection, finds, drop } = await things();
  try {
    const reads = new ReadsById(collection);
    assert.equal((await reads.get('t2'))?.n, 2);
    assert.equal(await reads.get('missing'), null);
    assert.deepEqual(
      finds.map((find) => find.filter as unknown),
      [{ _id: 't2' }, { _id: 'missing' }],
    );
  } finally {
    await drop();
  }
});

test('every read sees the document as the database has it then (nothing is cached)', async () => {
  const { collection, drop } = await things();
  try {
    const reads = new ReadsById(collection);
    assert.equal((await reads.get('t4'))?.n, 4);
    await collection.updateOne({ _id: 't4' }, { $set: { n: 40 } });
    assert.equal((await reads.get('t4'))?.n, 40);
  } finally {
    await drop();
  }
});

test('the projection applies to every read, and a batch is split at maxBatch ids', async () => {
  const { collection, finds, drop } = await things();
  try {
    const reads = new ReadsById(collection, { projection: { secret: 0 }, maxBatch: 2 });
    const got = await Promise.all(['t0', 't1', 't2', 't3', 't4'].map((id) => reads.get(id)));
    assert.deepEqual(
      got,
      [0, 1, 2, 3, 4].map((n) => ({ _id: `t${n}`, n })),
    );
    assert.deepEqual(
      finds.map((find) => find.filter as unknown),
      [{ _id: { $in: ['t0', 't1'] } }, { _id: { $in: ['t2', 't3'] } }, { _id: 't4' }],
    );
  } finally {
    await drop();
  }
});

test('a find that fails fails every read it served', async () => {
  const { collection, drop } = await things();
  try {
    // An invalid projection (inclusion and exclusion mixed) makes the server refuse the find.
    const reads = new ReadsById(collection, { projection: { n: 1, secret: 0 } });
    const outcomes = await Promise.allSettled(['t0', 't1'].map((id) => reads.get(id)));
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['rejected', 'rejected'],
    );
  } finally {
    await drop();
  }
});
