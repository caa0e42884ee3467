/**
 * The MongoDB idempotency store against a real MongoDB-wire server at MONGO_URL (FerretDB in the
 * local stack, brought up if it is not running).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { ensureStack, stackAddresses } from '@oms/testing';
import { MongoIdempotencyStore, type NewIdempotencyRecord } from './idempotency-store';

let client: MongoClient;
let db: Db;

before(async () => {
  await ensureStack({ only: ['mongo'] });
  client = new MongoClient((await stackAddresses()).MONGO_URL!, { retryWrites: false });
  await client.connect();
  db = client.db(`gateway_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
});

after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

const record = (
  key: string,
  owner: string,
  overrides: Partial<NewIdempotencyRecord> = {},
): NewIdempotencyRecord => ({
  key,
  requestHash: 'hash-1',
  owner,
  leaseUntil: new Date(Date.now() + 30_000),
  expiresAt: new Date(Date.now() + 60_000),
  ...overrides,
});

test('concurrent begin() with one key: exactly one winner, the others see its record', async () => {
  const store = await MongoIdempotencyStore.open(db);
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => store.begin(record('alice:race', `owner-${i}`))),
  );
  const winners = results.filter((result) => result.started);
  assert.equal(winners.length, 1);
  const losers = results.flatMap((result) => (result.started ? [] : [result.existing]));
  assert.equal(losers.length, 9);
  const owner = losers[0]!.owner;
  assert.ok(losers.every((existing) => existing.owner === owner && existing.state === 'in_progress'));
});

test('complete, replay, release and expiry', async () => {
  const store = await MongoIdempotencyStore.open(db);
  assert.deepEqual(await store.begin(record('alice:k1', 'me')), { started: true });
  assert.equal(
    await store.complete(
      'alice:k1',
      'someone-else',
      { statusCode: 201, body: '{}', headers: {} },
      new Date(Date.now() + 60_000),
    ),
    false,
  );
  const response = {
    statusCode: 201,
    body: '{"id":"ord-1","totalCents":2500}',
    headers: { location: '/v1/customers/alice/orders/ord-1' },
  };
  assert.equal(await store.complete('alice:k1', 'me', response, new Date(Date.now() + 60_000)), true);
  const again = await store.begin(record('alice:k1', 'other'));
  assert.equal(again.started, false);
  assert.deepEqual(!again.started && again.existing.response, response);
  assert.equal(!again.started && again.existing.state, 'completed');

  // Released keys can be claimed again; only the owner releases.
  await store.begin(record('alice:k2', 'me'));
  await store.release('alice:k2', 'not-me');
  assert.ok(await store.get('alice:k2'));
  await store.release('alice:k2', 'me');
  assert.equal(await store.get('alice:k2'), undefined);

  // An expired record is invisible and does not block a new claim.
  await store.begin(record('alice:k3', 'old', { expiresAt: new Date(Date.now() - 1000) }));
  assert.equal(await store.get('alice:k3'), undefined);
  assert.deepEqual(await store.begin(record('alice:k3', 'new')), { started: true });

  // Take-over only from the owner that was seen.
  assert.equal(await store.takeOver('alice:k3', 'old', 'thief', new Date()), false);
  assert.equal(await store.takeOver('alice:k3', 'new', 'successor', new Date()), true);
  assert.equal((await store.get('alice:k3'))?.owner, 'successor');

  await store.begin(record('alice:k4', 'x', { expiresAt: new Date(Date.now() - 1000) }));
  assert.ok((await store.deleteExpired(new Date())) >= 1);
  assert.equal(await db.collection('idempotency_keys').countDocuments({ _id: 'alice:k4' as never }), 0);
});
