import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Collection, CreateIndexesOptions, Db, IndexSpecification } from 'mongodb';
import { openOutboxCollection } from './outbox-collection';
import { relayNothing, type OutboxFields } from './outbox';

interface Ticket extends OutboxFields {
  _id: string;
  v: number;
}

/** A database whose one collection records its createIndex calls, each answered a tick later. */
function recordingDb() {
  const calls: { keys: IndexSpecification; options: CreateIndexesOptions | undefined }[] = [];
  let running = 0;
  let overlapped = false;
  const collection = {
    collectionName: 'tickets',
    async createIndex(keys: IndexSpecification, options?: CreateIndexesOptions) {
      overlapped ||= running > 0;
      running += 1;
      calls.push({ keys, options });
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      return 'index';
    },
  } as unknown as Collection<Ticket>;
  const names: string[] = [];
  const db = {
    collection: (name: string) => (names.push(name), collection),
  } as unknown as Db;
  return { db, collection, calls, names, overlapped: () => overlapped };
}

test('the indexes are made one call at a time, in order, before the store gets its collection', async () => {
  const { db, collection, calls, names, overlapped } = recordingDb();
  const handOff = relayNothing();
  const relayed: Collection<Ticket>[] = [];
  const { documents, outbox } = await openOutboxCollection<Ticket>(
    db,
    'tickets',
    (relayedCollection) => (relayed.push(relayedCollection), handOff),
    [{ keys: { orderId: 1 }, options: { unique: true } }, { keys: { status: 1, createdAt: 1 } }],
  );
  assert.deepEqual(names, ['tickets']);
  assert.deepEqual(calls, [
    { keys: { orderId: 1 }, options: { unique: true } },
    { keys: { status: 1, createdAt: 1 }, options: undefined },
  ]);
  assert.equal(overlapped(), false);
  assert.equal(documents.collection, collection);
  assert.deepEqual(relayed, [collection]);
  assert.equal(outbox, handOff);
});
