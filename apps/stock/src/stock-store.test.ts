// Integration tests of the stock store against the real MongoDB-wire server at MONGO_URL
// (FerretDB v1 or MongoDB). Each test uses a database of its own and drops it afterwards.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import { createLogger } from '@oms/logging';
import { DomainError } from '@oms/domain';
import { waitFor } from '@oms/testing';
import { ReservationSweeper } from './reservation-sweeper';
import { validateReserveRequest, type ReservationState } from './reservation-rules';
import { StockStore, type ItemDocument, type ReservationDocument } from './stock-store';

const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const logger = createLogger({ service: 'stock', instance: 'test', level: 'silent' });

/** A client of its own (as a stock process has), and a database only this test uses. */
async function connect(
  t: TestContext,
  dbName?: string,
  options: MongoClientOptions = {},
): Promise<{ db: Db; client: MongoClient }> {
  const client = new MongoClient(MONGO_URL, {
    serverSelectionTimeoutMS: 5000,
    retryWrites: false,
    maxPoolSize: 20,
    ...options,
  });
  await client.connect().catch((error: unknown) => {
    throw new Error(`no MongoDB-wire server at ${MONGO_URL} (start the stack: npm run stack up)`, {
      cause: error,
    });
  });
  const db = client.db(dbName ?? `stock_test_${randomBytes(5).toString('hex')}`);
  t.after(async () => {
    if (!dbName) await db.dropDatabase();
    await client.close();
  });
  return { db, client };
}

async function openStore(t: TestContext): Promise<{ store: StockStore; db: Db }> {
  const { db } = await connect(t);
  return { store: await StockStore.open(db), db };
}

/** A second stock process: its own client on the same database. */
async function secondStore(t: TestContext, db: Db): Promise<StockStore> {
  const { db: same } = await connect(t, db.databaseName);
  return StockStore.open(same);
}

const reserveRequest = (id: string, lines: { itemId: string; quantity: number }[], ttlSeconds = 900) =>
  validateReserveRequest({ reservationId: id, lines, ttlSeconds }, 900);

const reason = (error: unknown) => (error instanceof DomainError ? error.reason : String(error));

async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  assert.fail('expected a DomainError');
}

async function stockOf(store: StockStore, itemId: string) {
  const [item] = await store.availability([itemId]);
  assert.ok(item, `no stock record for ${itemId}`);
  return item;
}

/**
 * The item's stock adds up: nothing went negative, nothing was created or lost, and what is
 * reserved and committed is what the settled reservations say. No step is left marked once the
 * stores have removed the spent hold marks they keep for the item's next hold.
 */
async function assertLedgerSound(db: Db, itemId: string, total: number, stores: readonly StockStore[]) {
  for (const store of stores) await store.flushSpentHolds();
  const item = await db.collection<ItemDocument>('stock_items').findOne({ _id: itemId });
  assert.ok(item, `no stock record for ${itemId}`);
  assert.ok(item.available >= 0 && item.reserved >= 0, `${itemId}: ${JSON.stringify(item)}`);
  assert.equal(item.available + item.reserved + item.committed, total);
  const quantityIn = async (status: string) =>
    (
      await db
        .collection<ReservationDocument>('reservations')
        .find({ status: status as never })
        .toArray()
    )
      .flatMap((r) => r.lines)
      .filter((line) => line.itemId === itemId)
      .reduce((sum, line) => sum + line.quantity, 0);
  assert.equal(item.reserved, await quantityIn('reserved'), `${itemId}: reserved is what reservations hold`);
  assert.equal(item.committed, await quantityIn('committed'), `${itemId}: committed is what was sold`);
  assert.deepEqual(item.steps, {}, `${itemId}: no step left marked`);
  assert.deepEqual(item.holds ?? {}, {}, `${itemId}: no hold left marked`);
}

async function reserveConcurrently(stores: StockStore[], count: number, itemId: string) {
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      stores[i % stores.length]!.reserve(reserveRequest(`order-${i}`, [{ itemId, quantity: 1 }])),
    ),
  );
  const reasons = results.filter((r) => r.status === 'rejected').map((r) => reason(r.reason));
  return { succeeded: results.filter((r) => r.status === 'fulfilled').length, reasons };
}

test('50 concurrent reserves of 1 against 10 available: exactly 10 succeed', async (t) => {
  const { store, db } = await openStore(t);
  await store.ensureItem('pizza', 10);

  const { succeeded, reasons } = await reserveConcurrently([store], 50, 'pizza');

  assert.equal(succeeded, 10);
  assert.deepEqual(new Set(reasons), new Set(['out_of_stock']));
  assert.equal(reasons.length, 40);
  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 0, held: 10, committed: 0 });
  await assertLedgerSound(db, 'pizza', 10, [store]);
});

test('the same with two stock instances on two clients, calls interleaved', async (t) => {
  const { store: first, db } = await openStore(t);
  const second = await secondStore(t, db);
  await first.ensureItem('pizza', 10);

  const { succeeded, reasons } = await reserveConcurrently([first, second], 50, 'pizza');

  assert.equal(succeeded, 10);
  assert.equal(reasons.filter((r) => r === 'out_of_stock').length, 40);
  assert.deepEqual(await stockOf(second, 'pizza'), { itemId: 'pizza', available: 0, held: 10, committed: 0 });
  assert.deepEqual(await stockOf(first, 'pizza'), { itemId: 'pizza', available: 0, held: 10, committed: 0 });
  await assertLedgerSound(db, 'pizza', 10, [first, second]);
});

test('four instances, two-line reservations, then commits and releases: every hold is all-or-nothing and accounted for', async (t) => {
  const { store: first, db } = await openStore(t);
  const stores = [first, ...(await Promise.all([1, 2, 3].map(() => secondStore(t, db))))];
  await first.ensureItem('pizza', 30);
  await first.ensureItem('wine', 40);
  const lines = (i: number) => [
    { itemId: 'pizza', quantity: 1 },
    { itemId: 'wine', quantity: 1 + (i % 2) },
  ];

  const reserves = await Promise.allSettled(
    Array.from({ length: 60 }, (_, i) => stores[i % 4]!.reserve(reserveRequest(`order-${i}`, lines(i)))),
  );
  const reserved = reserves.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
  for (const r of reserves) if (r.status === 'rejected') assert.equal(reason(r.reason), 'out_of_stock');
  const held = (item: string) =>
    reserved.reduce((sum, i) => sum + lines(i).find((l) => l.itemId === item)!.quantity, 0);
  assert.ok(reserved.length > 0 && reserved.length < 60, `${reserved.length} reserved`);
  assert.deepEqual(await first.availability([]), [
    { itemId: 'pizza', available: 30 - held('pizza'), held: held('pizza'), committed: 0 },
    { itemId: 'wine', available: 40 - held('wine'), held: held('wine'), committed: 0 },
  ]);

  // Commit the even ones and release the odd ones, each from two instances at once.
  await Promise.all(
    reserved.flatMap((i) =>
      [0, 1].map((k) =>
        i % 2 === 0 ? stores[(i + k) % 4]!.commit(`order-${i}`) : stores[(i + k) % 4]!.release(`order-${i}`),
      ),
    ),
  );
  const committed = (item: string) =>
    reserved
      .filter((i) => i % 2 === 0)
      .reduce((sum, i) => sum + lines(i).find((l) => l.itemId === item)!.quantity, 0);
  assert.deepEqual(await stores[3]!.availability([]), [
    { itemId: 'pizza', available: 30 - committed('pizza'), held: 0, committed: committed('pizza') },
    { itemId: 'wine', available: 40 - committed('wine'), held: 0, committed: committed('wine') },
  ]);
  await assertLedgerSound(db, 'pizza', 30, stores);
  await assertLedgerSound(db, 'wine', 40, stores);
});

test('all lines or none: a short second line holds nothing and is named in the details', async (t) => {
  const { store } = await openStore(t);
  await store.ensureItem('pizza', 5);
  await store.ensureItem('wine', 1);

  const error = await rejection(
    store.reserve(
      reserveRequest('order-1', [
        { itemId: 'pizza', quantity: 2 },
        { itemId: 'wine', quantity: 3 },
      ]),
    ),
  );

  assert.equal(error.reason, 'out_of_stock');
  assert.deepEqual(error.details, [{ itemId: 'wine', requested: 3, available: 1 }]);
  assert.deepEqual(await store.availability([]), [
    { itemId: 'pizza', available: 5, held: 0, committed: 0 },
    { itemId: 'wine', available: 1, held: 0, committed: 0 },
  ]);
  assert.equal((await store.reservation('order-1'))?.state, 'rejected');
  // Asked again, the same answer (even after stock came back: the id names that attempt).
  await store.setAvailable('wine', 10);
  assert.deepEqual(
    (
      await rejection(
        store.reserve(
          reserveRequest('order-1', [
            { itemId: 'pizza', quantity: 2 },
            { itemId: 'wine', quantity: 3 },
          ]),
        ),
      )
    ).details,
    [{ itemId: 'wine', requested: 3, available: 1 }],
  );
});

test('every short line is reported, and an unknown item counts as 0 available', async (t) => {
  const { store } = await openStore(t);
  await store.ensureItem('a', 1);
  await store.ensureItem('c', 5);
  const error = await rejection(
    store.reserve(
      reserveRequest('order-1', [
        { itemId: 'a', quantity: 2 },
        { itemId: 'b-unknown', quantity: 1 },
        { itemId: 'c', quantity: 5 },
      ]),
    ),
  );
  assert.deepEqual(error.details, [
    { itemId: 'a', requested: 2, available: 1 },
    { itemId: 'b-unknown', requested: 1, available: 0 },
  ]);
  assert.deepEqual((await stockOf(store, 'c')).available, 5);
});

test('idempotency: reserve twice holds once; commit twice; release twice; no crossing over', async (t) => {
  const { store } = await openStore(t);
  await store.ensureItem('pizza', 10);
  const order1 = reserveRequest('order-1', [{ itemId: 'pizza', quantity: 3 }]);

  const first = await store.reserve(order1);
  const again = await store.reserve(order1);
  assert.equal(first.state, 'reserved');
  assert.deepEqual(again, first);
  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 7, held: 3, committed: 0 });

  assert.equal((await store.commit('order-1')).state, 'committed');
  assert.equal((await store.commit('order-1')).state, 'committed');
  assert.equal((await store.reserve(order1)).state, 'committed');
  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 7, held: 0, committed: 3 });
  assert.equal((await rejection(store.release('order-1'))).reason, 'reservation_committed');

  await store.reserve(reserveRequest('order-2', [{ itemId: 'pizza', quantity: 2 }]));
  assert.equal((await store.release('order-2')).state, 'released');
  assert.equal((await store.release('order-2')).state, 'released');
  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 7, held: 0, committed: 3 });
  assert.equal((await rejection(store.commit('order-2'))).reason, 'reservation_released');
  assert.equal(
    (await rejection(store.reserve(reserveRequest('order-2', [{ itemId: 'pizza', quantity: 2 }])))).reason,
    'reservation_released',
  );

  assert.equal(
    (await rejection(store.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 4 }])))).reason,
    'reservation_id_reused',
  );
  assert.equal((await rejection(store.commit('never-reserved'))).reason, 'not_found');
});

test('a release that overtakes its reserve wins: the late reserve holds nothing', async (t) => {
  const { store } = await openStore(t);
  await store.ensureItem('pizza', 10);
  const released = await store.release('order-1');
  assert.deepEqual({ state: released.state, lines: released.lines }, { state: 'released', lines: [] });
  assert.equal(
    (await rejection(store.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 1 }])))).reason,
    'reservation_released',
  );
  assert.equal((await stockOf(store, 'pizza')).available, 10);
});

test('commit and release racing on two instances: exactly one wins, and the stock agrees', async (t) => {
  const { store: first, db } = await openStore(t);
  const second = await secondStore(t, db);
  await first.ensureItem('pizza', 20);
  for (let i = 0; i < 10; i++)
    await first.reserve(reserveRequest(`order-${i}`, [{ itemId: 'pizza', quantity: 2 }]));

  const races = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      Promise.allSettled([first.commit(`order-${i}`), second.release(`order-${i}`)]).then(
        ([commit, release]) => ({ commit, release }),
      ),
    ),
  );

  let committed = 0;
  for (const { commit, release } of races) {
    assert.notEqual(commit.status, release.status, 'exactly one of commit and release succeeds');
    if (commit.status === 'fulfilled') committed++;
    else assert.equal(reason(commit.reason), 'reservation_released');
    if (release.status === 'rejected') assert.equal(reason(release.reason), 'reservation_committed');
  }
  assert.deepEqual(await stockOf(first, 'pizza'), {
    itemId: 'pizza',
    available: 20 - 2 * committed,
    held: 0,
    committed: 2 * committed,
  });
  await assertLedgerSound(db, 'pizza', 20, [first, second]);
});

test('expiry: a reservation past its ttl is expired by the sweeper and its stock comes back', async (t) => {
  const { store } = await openStore(t);
  await store.ensureItem('pizza', 5);
  await store.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 2 }], 1));
  assert.equal((await stockOf(store, 'pizza')).available, 3);

  await new ReservationSweeper(store, logger, { intervalMs: 50 }).sweep(new Date(Date.now() + 2000));
  assert.equal((await store.reservation('order-1'))?.state, 'expired');

  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 5, held: 0, committed: 0 });
  assert.equal((await rejection(store.commit('order-1'))).reason, 'reservation_released');
  assert.equal((await store.release('order-1')).state, 'expired');
});

test('crash recovery: a reservation left pending with one hold applied is released after its expiry', async (t) => {
  const { store, db } = await openStore(t);
  await store.ensureItem('pizza', 5);
  await store.ensureItem('wine', 5);
  // What a process that died after the first hold leaves behind, written directly.
  const past = new Date(Date.now() - 1000);
  await db.collection<ReservationDocument>('reservations').insertOne({
    v: 0,
    _id: 'order-crashed',
    lines: [
      { itemId: 'pizza', quantity: 2 },
      { itemId: 'wine', quantity: 1 },
    ],
    status: 'pending',
    expiresAt: past,
    createdAt: past,
    updatedAt: past,
  });
  await db.collection<ItemDocument>('stock_items').updateOne(
    { _id: 'pizza' },
    {
      $inc: { available: -2, reserved: 2, v: 1 },
      $set: { 'holds.order-crashed': new Date() },
    },
  );
  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 3, held: 2, committed: 0 });

  await new ReservationSweeper(store, logger, { intervalMs: 50 }).sweep();
  assert.equal((await store.reservation('order-crashed'))?.state, 'expired');

  assert.deepEqual(await store.availability(['pizza', 'wine']), [
    { itemId: 'pizza', available: 5, held: 0, committed: 0 },
    { itemId: 'wine', available: 5, held: 0, committed: 0 },
  ]);
});

test('crash recovery: a settlement stuck half-way is finished by the sweeper', async (t) => {
  const { store, db } = await openStore(t);
  await store.ensureItem('pizza', 5);
  await store.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 2 }]));
  // The commit was decided, then its process died before committing the line.
  const longAgo = new Date(Date.now() - 120_000);
  await db
    .collection<ReservationDocument>('reservations')
    .updateOne({ _id: 'order-1' }, { $set: { status: 'committing', updatedAt: longAgo }, $inc: { v: 1 } });

  const result = await new ReservationSweeper(store, logger, { intervalMs: 50 }).sweep();

  assert.deepEqual(
    { expired: result.expired, resumed: result.resumed, leftoverHolds: result.leftoverHolds },
    { expired: 0, resumed: 1, leftoverHolds: 0 },
  );
  assert.equal(
    (await store.reservation('order-1'))?.state satisfies ReservationState | undefined,
    'committed',
  );
  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 3, held: 0, committed: 2 });
});

test('the sweeper sleeps until the next reservation expires, within its bounds', async (t) => {
  const { store } = await openStore(t);
  await store.ensureItem('pizza', 5);
  const sweeper = new ReservationSweeper(store, logger, { intervalMs: 50 });
  assert.equal((await sweeper.sweep()).nextSweepMs, 30_000, 'nothing pending: the longest sleep');
  await store.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 1 }], 5));
  const { nextSweepMs } = await sweeper.sweep();
  assert.ok(nextSweepMs > 3_000 && nextSweepMs <= 5_000, `until the expiry in 5 s: ${nextSweepMs} ms`);
  await store.reserve(reserveRequest('order-2', [{ itemId: 'pizza', quantity: 1 }], 0));
  assert.equal(
    (await sweeper.sweep(new Date(Date.now() + 901_000))).nextSweepMs,
    50,
    'work was due: the shortest sleep',
  );
});

test('EnsureItem never resets a consumed quantity; SetAvailable sets it and stocks new items', async (t) => {
  const { store } = await openStore(t);
  assert.deepEqual(await store.ensureItem('pizza', 100), {
    itemId: 'pizza',
    available: 100,
    held: 0,
    committed: 0,
  });
  await store.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 30 }]));
  await store.commit('order-1');

  assert.deepEqual(await store.ensureItem('pizza', 100), {
    itemId: 'pizza',
    available: 70,
    held: 0,
    committed: 30,
  });

  assert.deepEqual(await store.setAvailable('pizza', 25), {
    itemId: 'pizza',
    available: 25,
    held: 0,
    committed: 30,
  });
  assert.deepEqual(await store.setAvailable('new-dish', 4), {
    itemId: 'new-dish',
    available: 4,
    held: 0,
    committed: 0,
  });
  assert.deepEqual(
    (await store.availability([])).map((item) => item.itemId),
    ['new-dish', 'pizza'],
  );
  assert.deepEqual(await store.availability(['nope']), []);
});

test('crash halfway through a multi-line reservation: the retried Reserve resumes it, holding each line once', async (t) => {
  const { store, db } = await openStore(t);
  await store.ensureItem('pizza', 5);
  await store.ensureItem('wine', 5);
  const request = reserveRequest('order-1', [
    { itemId: 'pizza', quantity: 2 },
    { itemId: 'wine', quantity: 3 },
  ]);
  // What a process that died after the first of two holds leaves behind, written directly.
  const crashedAt = new Date();
  await db.collection<ReservationDocument>('reservations').insertOne({
    _id: 'order-1',
    lines: request.lines,
    status: 'pending',
    expiresAt: new Date(Date.now() + 900_000),
    createdAt: crashedAt,
    updatedAt: crashedAt,
    v: 0,
  });
  await db
    .collection<ItemDocument>('stock_items')
    .updateOne(
      { _id: 'pizza' },
      { $inc: { available: -2, reserved: 2, v: 1 }, $set: { 'holds.order-1': new Date() } },
    );
  const other = await secondStore(t, db);

  // Retried at once, it cannot tell a crash from a Reserve still at work: it is told to retry.
  assert.equal((await rejection(other.reserve(request))).reason, 'reservation_pending');
  // Once the reservation has not moved for a while, the retried Reserve (same id, same lines)
  // takes it over and holds only the line that was missing.
  await db
    .collection<ReservationDocument>('reservations')
    .updateOne({ _id: 'order-1' }, { $set: { updatedAt: new Date(Date.now() - 120_000) }, $inc: { v: 1 } });
  const resumed = await other.reserve(request);

  assert.equal(resumed.state, 'reserved');
  assert.deepEqual(await store.availability(['pizza', 'wine']), [
    { itemId: 'pizza', available: 3, held: 2, committed: 0 },
    { itemId: 'wine', available: 2, held: 3, committed: 0 },
  ]);
  await store.commit('order-1');
  await assertLedgerSound(db, 'pizza', 5, [store, other]);
  await assertLedgerSound(db, 'wine', 5, [store, other]);
});

test('crash halfway through a short reservation: the compensation recorded on it is finished by the sweeper', async (t) => {
  const { store, db } = await openStore(t);
  await store.ensureItem('pizza', 5);
  await store.ensureItem('wine', 1);
  // The second line was short; the process recorded the rejection, then died before giving back
  // the first line's hold.
  const longAgo = new Date(Date.now() - 120_000);
  const shortLines = [{ itemId: 'wine', requested: 3, available: 1 }];
  await db.collection<ReservationDocument>('reservations').insertOne({
    _id: 'order-1',
    lines: [
      { itemId: 'pizza', quantity: 2 },
      { itemId: 'wine', quantity: 3 },
    ],
    status: 'releasing',
    endsAs: 'rejected',
    shortLines,
    expiresAt: new Date(Date.now() + 900_000),
    createdAt: longAgo,
    updatedAt: longAgo,
    v: 1,
  });
  await db.collection<ItemDocument>('stock_items').updateOne(
    { _id: 'pizza' },
    {
      $inc: { available: -2, reserved: 2, v: 1 },
      $set: { 'holds.order-1': new Date() },
    },
  );

  await new ReservationSweeper(store, logger, { intervalMs: 50 }).sweep();

  assert.equal((await store.reservation('order-1'))?.state, 'rejected');
  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 5, held: 0, committed: 0 });
  const retried = await rejection(
    store.reserve(
      reserveRequest('order-1', [
        { itemId: 'pizza', quantity: 2 },
        { itemId: 'wine', quantity: 3 },
      ]),
    ),
  );
  assert.equal(retried.reason, 'out_of_stock');
  assert.deepEqual(retried.details, shortLines);
});

// Held in `holds` by this build, in `steps` as 'hold' by an older one: either is given back.
for (const [build, mark] of [
  ['this build', { 'holds.order-1': new Date() }],
  ['an older build', { 'steps.order-1': 'hold' }],
] as const) {
  test(`a hold a crashed Reserve took after its reservation was released under it is given back (${build})`, async (t) => {
    const { store, db } = await openStore(t);
    await store.ensureItem('pizza', 5);
    // The release ran while the Reserve was still taking holds, and ended the reservation; the
    // Reserve then held pizza and died before giving it back itself.
    const longAgo = new Date(Date.now() - 120_000);
    await db.collection<ReservationDocument>('reservations').insertOne({
      _id: 'order-1',
      lines: [{ itemId: 'pizza', quantity: 1 }],
      status: 'released',
      endsAs: 'released',
      expiresAt: longAgo,
      createdAt: longAgo,
      updatedAt: longAgo,
      v: 2,
    });
    await db
      .collection<ItemDocument>('stock_items')
      .updateOne({ _id: 'pizza' }, { $inc: { available: -1, reserved: 1, v: 1 }, $set: mark });

    const result = await new ReservationSweeper(store, logger, { intervalMs: 50 }).sweep();

    assert.equal(result.leftoverHolds, 1);
    assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 5, held: 0, committed: 0 });
    // The mark of the give-back goes on the next round: nothing is left on the item.
    await new ReservationSweeper(store, logger, { intervalMs: 50 }).sweep();
    await assertLedgerSound(db, 'pizza', 5, [store]);
  });
}

async function holdMarks(db: Db, itemId: string): Promise<string[]> {
  const item = await db.collection<ItemDocument>('stock_items').findOne({ _id: itemId });
  return Object.keys(item?.holds ?? {}).sort();
}

test("a reservation's spent hold marks go with the item's next hold, then by a write of their own", async (t) => {
  const { db } = await connect(t);
  const store = await StockStore.open(db, { spentHoldFlushMs: 200 });
  await store.ensureItem('pizza', 10);
  await store.ensureItem('wine', 10);

  await store.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 1 }]));
  // Held every line: the mark is spent, and waits for pizza's next write.
  assert.deepEqual(await holdMarks(db, 'pizza'), ['order-1']);
  await store.reserve(reserveRequest('order-2', [{ itemId: 'pizza', quantity: 1 }]));
  assert.deepEqual(await holdMarks(db, 'pizza'), ['order-2'], "order-2's hold took order-1's mark away");

  // A hold on another item leaves pizza's mark to the timer.
  await store.reserve(reserveRequest('order-3', [{ itemId: 'wine', quantity: 1 }]));
  assert.deepEqual(await holdMarks(db, 'pizza'), ['order-2']);
  const deadline = Date.now() + 5000;
  while ((await holdMarks(db, 'pizza')).length + (await holdMarks(db, 'wine')).length > 0) {
    assert.ok(Date.now() < deadline, 'spent hold marks still there after 5 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(await stockOf(store, 'pizza'), { itemId: 'pizza', available: 8, held: 2, committed: 0 });
  await store.commit('order-1');
  await store.release('order-2');
  await store.release('order-3');
  await assertLedgerSound(db, 'pizza', 10, [store]);
  await assertLedgerSound(db, 'wine', 10, [store]);
});

test("each item's spent hold marks wait their own time for a hold before a write of their own", async (t) => {
  const { db } = await connect(t);
  const store = await StockStore.open(db, { spentHoldFlushMs: 1500 });
  await store.ensureItem('pizza', 10);
  await store.ensureItem('wine', 10);
  await store.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 1 }]));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await store.reserve(reserveRequest('order-2', [{ itemId: 'wine', quantity: 1 }]));

  // Pizza's mark goes when its time is up; wine's, spent a second later, still waits for a hold.
  const marksOf = async () => {
    const items = await db
      .collection<ItemDocument>('stock_items')
      .find({ _id: { $in: ['pizza', 'wine'] } })
      .toArray();
    return (id: string) => Object.keys(items.find((item) => item._id === id)?.holds ?? {});
  };
  const marks = await waitFor(
    "pizza's spent mark written away",
    async () => {
      const read = await marksOf();
      return read('pizza').length === 0 && read;
    },
    { intervalMs: 20 },
  );
  assert.deepEqual(marks('wine'), ['order-2'], "wine's mark was written away with pizza's");
  await waitFor("wine's spent mark written away", async () => (await holdMarks(db, 'wine')).length === 0);
  await store.release('order-1');
  await store.release('order-2');
  await assertLedgerSound(db, 'pizza', 10, [store]);
  await assertLedgerSound(db, 'wine', 10, [store]);
});

test('under a stream of holds on one item, spent marks cost at most one write of their own per wait', async (t) => {
  const { db } = await connect(t);
  const waitMs = 100;
  const store = await StockStore.open(db, { spentHoldFlushMs: waitMs });
  await store.ensureItem('pizza', 100_000);
  const version = async () => (await db.collection<ItemDocument>('stock_items').findOne({ _id: 'pizza' }))!.v;
  const before = await version();
  const started = Date.now();
  let holds = 0;
  await Promise.all(
    Array.from({ length: 8 }, async (_, worker) => {
      for (let i = 0; Date.now() - started < 1500; i++) {
        await store.reserve(reserveRequest(`order-${worker}-${i}`, [{ itemId: 'pizza', quantity: 1 }]));
        holds += 1;
      }
    }),
  );
  await store.flushSpentHolds();
  const elapsedMs = Date.now() - started;
  // Every hold is one write of the item; the rest are the spent marks' writes of their own.
  const ownWrites = (await version()) - before - holds;
  assert.ok(
    ownWrites <= Math.ceil(elapsedMs / waitMs) + 2,
    `${ownWrites} writes of their own beside ${holds} holds in ${elapsedMs} ms`,
  );
  assert.deepEqual(await holdMarks(db, 'pizza'), []);
});

test('concurrent holds of one item carry each spent mark once', async (t) => {
  const { db, client } = await connect(t, undefined, { monitorCommands: true });
  const unsets: string[] = [];
  client.on('commandStarted', (event) => {
    if (event.commandName !== 'update' || event.command.update !== 'stock_items') return;
    for (const { u } of event.command.updates as { u: { $unset?: Record<string, ''> } }[])
      unsets.push(...Object.keys(u.$unset ?? {}));
  });
  const store = await StockStore.open(db);
  await store.ensureItem('pizza', 100_000);
  let holds = 0;
  await Promise.all(
    Array.from({ length: 16 }, async (_, worker) => {
      for (let i = 0; i < 8; i++) {
        await store.reserve(reserveRequest(`order-${worker}-${i}`, [{ itemId: 'pizza', quantity: 1 }]));
        holds += 1;
      }
    }),
  );
  await store.flushSpentHolds();

  assert.equal(holds, 128);
  assert.equal(unsets.length, holds, `${unsets.length} removals of ${new Set(unsets).size} spent marks`);
  assert.equal(new Set(unsets).size, holds);
  assert.deepEqual(await holdMarks(db, 'pizza'), []);
  await assertLedgerSound(db, 'pizza', 100_000, [store]);
});

test('a spent hold mark that a stopped process left is removed by the sweeper, and gives nothing back', async (t) => {
  const { store: stopped, db } = await openStore(t);
  await stopped.ensureItem('pizza', 5);
  await stopped.reserve(reserveRequest('order-1', [{ itemId: 'pizza', quantity: 2 }]));
  assert.deepEqual(await holdMarks(db, 'pizza'), ['order-1']);
  // `stopped` never flushes: another instance's sweeper finds the mark.
  const other = await secondStore(t, db);

  const result = await new ReservationSweeper(other, logger, { intervalMs: 50 }).sweep();

  assert.equal(result.leftoverHolds, 0);
  assert.deepEqual(await holdMarks(db, 'pizza'), []);
  assert.deepEqual(await stockOf(other, 'pizza'), { itemId: 'pizza', available: 3, held: 2, committed: 0 });
});
