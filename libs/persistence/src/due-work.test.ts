import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Collection } from 'mongodb';
import { ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { DueWork, findDue } from './due-work';

interface Job {
  _id: string;
  status: string;
  dueAt: Date;
}

let client: MongoClient;
/** find commands sent, by their filter's shape: `_id` lookups apart from status queries. */
const finds = { byId: 0, byStatus: 0 };

before(async () => {
  await ensureStack({ only: ['mongo'] });
  client = new MongoClient((await stackAddresses()).MONGO_URL!, {
    monitorCommands: true,
    retryWrites: false,
  });
  client.on('commandStarted', (event) => {
    if (event.commandName !== 'find') return;
    const filter = (event.command as { filter?: Record<string, unknown> }).filter ?? {};
    if ('_id' in filter) finds.byId++;
    else finds.byStatus++;
  });
  await client.connect();
});

after(() => client.close());

async function jobs(): Promise<Collection<Job>> {
  const collection = client.db(uniqueDeployment('due')).collection<Job>('jobs');
  await collection.createIndex({ status: 1, dueAt: 1 });
  return collection;
}

const at = (base: Date, seconds: number) => new Date(base.getTime() + seconds * 1000);
const options = { statuses: ['open', 'held'], dueField: 'dueAt' } as const;
const ids = (docs: { _id: string }[]) => docs.map((doc) => doc._id).sort();
const sent = () => ({ ...finds });

test('findDue answers the documents of the statuses whose due date has passed', async () => {
  const collection = await jobs();
  const now = new Date();
  await collection.insertMany([
    { _id: 'coming', status: 'held', dueAt: at(now, 60) },
    { _id: 'lapsed', status: 'open', dueAt: at(now, -30) },
    { _id: 'lapsed-too', status: 'held', dueAt: at(now, -1) },
    { _id: 'closed', status: 'closed', dueAt: at(now, -60) },
  ]);
  assert.deepEqual(ids(await findDue(collection, { ...options, now, limit: 10 })), ['lapsed', 'lapsed-too']);
  assert.equal((await findDue(collection, { ...options, now, limit: 1 })).length, 1);
});

test('DueWork reads only what is due: the first round asks, later ones look up what fell due by _id', async () => {
  const collection = await jobs();
  const now = new Date();
  const work = new DueWork(collection, { ...options, recheckMs: 60_000 });
  await collection.insertMany([
    { _id: 'a', status: 'open', dueAt: at(now, 30) },
    { _id: 'lapsed', status: 'held', dueAt: at(now, -5) },
  ]);

  let before = sent();
  const first = await work.find(now, 10);
  assert.deepEqual(ids(first.due), ['lapsed']);
  assert.deepEqual(first.nextDue, at(now, 30), 'what comes was loaded');
  assert.ok(finds.byStatus > before.byStatus, 'the first round asks');
  await collection.updateOne({ _id: 'lapsed' }, { $set: { status: 'closed' } });

  // Written by another process after that: not seen until the answer is old.
  await collection.insertOne({ _id: 'b', status: 'open', dueAt: at(now, 5) });
  // Written by this process: noted.
  await collection.insertOne({ _id: 'c', status: 'held', dueAt: at(now, 20) });
  work.noted('c', at(now, 20));

  before = sent();
  assert.deepEqual(await work.find(at(now, 10), 10), { due: [], nextDue: at(now, 20) });
  assert.deepEqual(sent(), before, 'nothing known is due: nothing is read');

  const c = await work.find(at(now, 20), 10);
  assert.deepEqual(ids(c.due), ['c']);
  assert.deepEqual(c.nextDue, at(now, 30));
  assert.deepEqual(sent(), { byId: before.byId + 1, byStatus: before.byStatus }, 'one lookup by _id');
  await collection.updateOne({ _id: 'c' }, { $set: { status: 'closed' } });

  // A known document that was settled meanwhile is looked up, and not answered.
  await collection.updateOne({ _id: 'a' }, { $set: { status: 'closed' } });
  assert.deepEqual(await work.find(at(now, 30), 10), { due: [], nextDue: undefined });

  // Once the answer is older than recheckMs, another process's work is found.
  before = sent();
  assert.deepEqual(ids((await work.find(at(now, 61), 10)).due), ['b']);
  assert.ok(finds.byStatus > before.byStatus);
});

test('DueWork asks again at once while more is due than a round takes', async () => {
  const collection = await jobs();
  const now = new Date();
  await collection.insertMany(
    ['x', 'y', 'z'].map((id, i) => ({ _id: id, status: 'open', dueAt: at(now, -10 + i) })),
  );
  const work = new DueWork(collection, { ...options, recheckMs: 60_000 });
  const seen: string[] = [];
  for (let round = 0; round < 3; round++) {
    const { due } = await work.find(at(now, round), 2);
    seen.push(...due.map((doc) => doc._id));
    await collection.updateMany({ _id: { $in: due.map((doc) => doc._id) } }, { $set: { status: 'closed' } });
  }
  assert.deepEqual(seen.sort(), ['x', 'y', 'z']);
});

test('a lookup that fails is tried again next round', async () => {
  const collection = await jobs();
  const now = new Date();
  const work = new DueWork(collection, { ...options, recheckMs: 60_000 });
  await work.find(now, 10);
  await collection.insertOne({ _id: 'd', status: 'open', dueAt: at(now, 1) });
  work.noted('d', at(now, 1));
  const failing = Object.assign(Object.create(collection) as Collection<Job>, {
    findOne: () => Promise.reject(new Error('database away')),
  });
  // `collection` is private: the stand-in is given it past the type checker.
  const brokenWork = Object.create(work) as DueWork<Job>;
  Object.assign(brokenWork, { collection: failing });
  await assert.rejects(brokenWork.find(at(now, 2), 10), /database away/);
  assert.deepEqual(ids((await work.find(at(now, 2), 10)).due), ['d']);
});
