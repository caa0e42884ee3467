import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Collection } from 'mongodb';
import { ensureStack, stackAddresses, uniqueDeployment } from '@oms/testing';
import { DueWork, findDueByStatus } from './index';

interface Job {
  _id: string;
  status: string;
  dueAt: Date;
}

let client: MongoClient;
let finds = 0;

before(async () => {
  await ensureStack({ only: ['mongo'] });
  client = new MongoClient((await stackAddresses()).MONGO_URL!, {
    monitorCommands: true,
    retryWrites: false,
  });
  client.on('commandStarted', (event) => {
    if (event.commandName === 'find') finds++;
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

test('findDueByStatus answers the due documents, and the soonest still to come only when none is due', async () => {
  const collection = await jobs();
  const now = new Date();
  await collection.insertMany([
    { _id: 'later', status: 'held', dueAt: at(now, 60) },
    { _id: 'soon', status: 'open', dueAt: at(now, 30) },
    { _id: 'done', status: 'closed', dueAt: at(now, -60) },
  ]);
  assert.deepEqual(await findDueByStatus(collection, { ...options, now, limit: 10 }), {
    due: [],
    nextDue: at(now, 30),
  });

  await collection.insertOne({ _id: 'lapsed', status: 'held', dueAt: at(now, -1) });
  const found = await findDueByStatus(collection, { ...options, now, limit: 10 });
  assert.deepEqual(
    found.due.map((job) => job._id),
    ['lapsed'],
  );
  assert.equal(found.nextDue, undefined, 'a sweeper that found work comes back at once: no need to ask');
});

test('DueWork asks the database only when something may be due, or when its answer is old', async () => {
  const collection = await jobs();
  const now = new Date();
  const work = new DueWork(collection, { ...options, recheckMs: 60_000 });
  await collection.insertOne({ _id: 'a', status: 'open', dueAt: at(now, 30) });

  let before = finds;
  assert.deepEqual(await work.find(now, 10), { due: [], nextDue: at(now, 30) });
  assert.ok(finds > before, 'the first round asks');

  // Written by another process: not seen until the answer is old, or something known falls due.
  await collection.insertOne({ _id: 'b', status: 'open', dueAt: at(now, 5) });
  before = finds;
  assert.deepEqual(await work.find(at(now, 10), 10), { due: [], nextDue: at(now, 30) });
  assert.equal(finds, before, 'nothing known is due and the answer is fresh: no query');

  // Written by this process: noted, so the round at that moment asks.
  work.noted(at(now, 20));
  assert.deepEqual(await work.find(at(now, 15), 10), { due: [], nextDue: at(now, 20) });
  assert.equal(finds, before, 'still nothing due');
  const due = await work.find(at(now, 20), 10);
  assert.ok(finds > before, 'a noted due date came: it asks');
  assert.deepEqual(
    due.due.map((job) => job._id),
    ['b'],
  );

  // Work found: the next round asks again, however soon.
  before = finds;
  await collection.updateOne({ _id: 'b' }, { $set: { status: 'closed' } });
  assert.deepEqual(await work.find(at(now, 21), 10), { due: [], nextDue: at(now, 30) });
  assert.ok(finds > before);

  // Another process's work is found once the answer is older than recheckMs.
  await collection.insertOne({ _id: 'c', status: 'held', dueAt: at(now, 25) });
  before = finds;
  assert.deepEqual(await work.find(at(now, 26), 10), { due: [], nextDue: at(now, 30) });
  assert.equal(finds, before);
  const recheck = await work.find(at(now, 21 + 60), 10);
  assert.deepEqual(recheck.due.map((job) => job._id).sort(), ['a', 'c']);
});

test('DueWork keeps a due date noted while its query ran', async () => {
  const collection = await jobs();
  const now = new Date();
  const work = new DueWork(collection, { ...options, recheckMs: 60_000 });
  const asking = work.find(now, 10);
  // Noted while the query is in flight; its document is written after the query has read.
  work.noted(at(now, 5));
  assert.deepEqual((await asking).due, []);
  await collection.insertOne({ _id: 'racing', status: 'open', dueAt: at(now, 5) });
  const due = await work.find(at(now, 5), 10);
  assert.deepEqual(
    due.due.map((job) => job._id),
    ['racing'],
  );
});
