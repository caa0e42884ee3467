import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ReservationStatus } from '@oms/contracts';
import { RpcError } from '@oms/rpc';
import {
  commitPlan,
  commitStep,
  ensureItemStep,
  holdStep,
  mergeLines,
  releasePlan,
  releaseStep,
  replayReserve,
  reserveAnswer,
  setAvailableStep,
  settlementOf,
  toReservation,
  validateItemIds,
  validateQuantityToSet,
  validateReservationId,
  validateReserveRequest,
  type ItemState,
} from './reservation-rules';

const rpcError = (code: status, reason: string) => (error: unknown) =>
  error instanceof RpcError && error.code === code && error.reason === reason;
const invalid = rpcError(status.INVALID_ARGUMENT, 'invalid_argument');

const request = (
  lines: { itemId: string; quantity: number }[],
  ttlSeconds = 0,
  reservationId = 'order-1',
) => ({
  reservationId,
  lines,
  ttlSeconds,
});

// --- validation ---------------------------------------------------------------------------------

test('lines with the same item are merged and sorted by item id', () => {
  assert.deepEqual(
    mergeLines([
      { itemId: 'tiramisu', quantity: 1 },
      { itemId: 'margherita', quantity: 2 },
      { itemId: 'tiramisu', quantity: 3 },
    ]),
    [
      { itemId: 'margherita', quantity: 2 },
      { itemId: 'tiramisu', quantity: 4 },
    ],
  );
});

test('a valid request is merged and gets the default ttl when it gives 0', () => {
  assert.deepEqual(
    validateReserveRequest(
      request([
        { itemId: 'b', quantity: 1 },
        { itemId: 'a', quantity: 2 },
      ]),
      900,
    ),
    {
      reservationId: 'order-1',
      lines: [
        { itemId: 'a', quantity: 2 },
        { itemId: 'b', quantity: 1 },
      ],
      ttlSeconds: 900,
    },
  );
  assert.equal(validateReserveRequest(request([{ itemId: 'a', quantity: 1 }], 5), 900).ttlSeconds, 5);
});

test('every problem of a reserve request is reported at once', () => {
  assert.throws(
    () =>
      validateReserveRequest(
        request(
          [
            { itemId: 'a.b', quantity: 0 },
            { itemId: 'c', quantity: 1.5 },
          ],
          -1,
          'bad id',
        ),
        900,
      ),
    (error: unknown) =>
      invalid(error) &&
      (error as RpcError).details.map((d) => d.field).join(',') ===
        'reservationId,lines[0].itemId,lines[0].quantity,lines[1].quantity,ttlSeconds',
  );
});

test('no lines, more than 50 lines, and a merged quantity over 10000 are invalid', () => {
  assert.throws(() => validateReserveRequest(request([]), 900), invalid);
  const many = Array.from({ length: 51 }, (_, i) => ({ itemId: `item-${i}`, quantity: 1 }));
  assert.throws(() => validateReserveRequest(request(many), 900), invalid);
  assert.throws(
    () =>
      validateReserveRequest(
        request([
          { itemId: 'a', quantity: 6000 },
          { itemId: 'a', quantity: 4001 },
        ]),
        900,
      ),
    invalid,
  );
  assert.doesNotThrow(() =>
    validateReserveRequest(
      request([
        { itemId: 'a', quantity: 6000 },
        { itemId: 'a', quantity: 4000 },
      ]),
      900,
    ),
  );
});

test('reservation ids must be safe as parts of field names and document ids', () => {
  for (const good of ['order-1', 'A_b-9', 'x'.repeat(64)]) assert.equal(validateReservationId(good), good);
  for (const bad of ['', 'a.b', '$where', 'a@1', 'x'.repeat(65), 'a b'])
    assert.throws(() => validateReservationId(bad), invalid);
});

test('queried item ids are deduplicated and checked', () => {
  assert.deepEqual(validateItemIds(['a', 'b', 'a']), ['a', 'b']);
  assert.deepEqual(validateItemIds([]), []);
  assert.throws(() => validateItemIds(['ok', 'not.ok']), invalid);
});

test('a quantity to set is a non-negative integer', () => {
  assert.equal(validateQuantityToSet('available', 0), 0);
  assert.throws(() => validateQuantityToSet('available', -1), invalid);
  assert.throws(() => validateQuantityToSet('available', 2.5), invalid);
});

// --- steps on one item --------------------------------------------------------------------------

const stock = (available: number, holds: [string, number][] = [], committed = 0): ItemState => ({
  available,
  committed,
  holds: holds.map(([reservationId, quantity]) => ({ reservationId, quantity })),
});

test('a hold moves quantity from available into the reservation hold', () => {
  assert.deepEqual(holdStep(stock(5), 'r1', 2), { kind: 'next', state: stock(3, [['r1', 2]]) });
});

test('a hold already there is not taken twice', () => {
  assert.deepEqual(holdStep(stock(3, [['r1', 2]]), 'r1', 2), { kind: 'unchanged' });
});

test('a hold bigger than available is short, and an unknown item has nothing', () => {
  assert.deepEqual(holdStep(stock(1), 'r1', 2), { kind: 'short', available: 1 });
  assert.deepEqual(holdStep(undefined, 'r1', 1), { kind: 'short', available: 0 });
});

test('release gives the held quantity back; a second release changes nothing', () => {
  const held = stock(3, [
    ['r1', 2],
    ['r2', 1],
  ]);
  assert.deepEqual(releaseStep(held, 'r1'), { kind: 'next', state: stock(5, [['r2', 1]]) });
  assert.deepEqual(releaseStep(stock(5, [['r2', 1]]), 'r1'), { kind: 'unchanged' });
  assert.deepEqual(releaseStep(undefined, 'r1'), { kind: 'unchanged' });
});

test('commit turns the hold into committed stock; a second commit changes nothing', () => {
  assert.deepEqual(commitStep(stock(3, [['r1', 2]]), 'r1'), { kind: 'next', state: stock(3, [], 2) });
  assert.deepEqual(commitStep(stock(3, [], 2), 'r1'), { kind: 'unchanged' });
});

test('setting available keeps holds and committed stock, and creates an unknown item', () => {
  assert.deepEqual(setAvailableStep(stock(3, [['r1', 2]], 4), 10), {
    kind: 'next',
    state: stock(10, [['r1', 2]], 4),
  });
  assert.deepEqual(setAvailableStep(stock(10), 10), { kind: 'unchanged' });
  assert.deepEqual(setAvailableStep(undefined, 7), { kind: 'next', state: stock(7) });
});

test('ensuring an item creates it once and never resets it', () => {
  assert.deepEqual(ensureItemStep(undefined, 100), { kind: 'next', state: stock(100) });
  assert.deepEqual(ensureItemStep(stock(0, [], 100), 100), { kind: 'unchanged' });
});

// --- a reservation's life -----------------------------------------------------------------------

const lines = [{ itemId: 'a', quantity: 1 }];

test('a repeated reserve returns a reserved reservation and continues a pending one', () => {
  assert.deepEqual(replayReserve('r', { lines, state: 'reserved' }, lines, undefined), {
    action: 'return-reserved',
  });
  assert.deepEqual(replayReserve('r', { lines, state: 'pending' }, lines, undefined), { action: 'continue' });
  assert.deepEqual(replayReserve('r', { lines, state: 'committed' }, lines, 'committed'), {
    action: 'answer-outcome',
    outcome: 'committed',
  });
});

test('a repeated reserve with other lines is refused', () => {
  assert.throws(
    () => replayReserve('r', { lines, state: 'reserved' }, [{ itemId: 'a', quantity: 2 }], undefined),
    rpcError(status.ALREADY_EXISTS, 'reservation_id_reused'),
  );
});

test('a reserve arriving after its own release is refused, decided or not', () => {
  for (const outcome of [undefined, 'released'] as const) {
    assert.throws(
      () => replayReserve('r', { lines: [], state: 'pending' }, lines, outcome),
      rpcError(status.FAILED_PRECONDITION, 'reservation_released'),
    );
  }
});

test('reserve answers a rejected reservation with its short lines again', () => {
  const short = [{ itemId: 'a', requested: 2, available: 1 }];
  assert.throws(
    () => reserveAnswer('r', 'rejected', short),
    (error: unknown) =>
      rpcError(status.FAILED_PRECONDITION, 'out_of_stock')(error) &&
      (error as RpcError).details[0]?.itemId === 'a',
  );
  assert.throws(
    () => reserveAnswer('r', 'expired', []),
    rpcError(status.FAILED_PRECONDITION, 'reservation_released'),
  );
  assert.equal(reserveAnswer('r', 'committed', []), 'return');
});

test('commit is decided only from reserved, finished when committed, refused otherwise', () => {
  assert.equal(commitPlan('r', 'reserved', undefined), 'decide');
  assert.equal(commitPlan('r', 'committing', 'committed'), 'finish');
  assert.equal(commitPlan('r', 'committed', 'committed'), 'finish');
  assert.throws(
    () => commitPlan('r', 'pending', undefined),
    rpcError(status.FAILED_PRECONDITION, 'reservation_pending'),
  );
  for (const outcome of ['released', 'expired', 'rejected'] as const) {
    assert.throws(
      () => commitPlan('r', 'reserved', outcome),
      rpcError(status.FAILED_PRECONDITION, 'reservation_released'),
    );
  }
});

test('release is decided from any undecided state, finished when released, refused when committed', () => {
  assert.equal(releasePlan('r', undefined), 'decide');
  for (const outcome of ['released', 'expired', 'rejected'] as const)
    assert.equal(releasePlan('r', outcome), 'finish');
  assert.throws(
    () => releasePlan('r', 'committed'),
    rpcError(status.FAILED_PRECONDITION, 'reservation_committed'),
  );
});

test('each outcome has its settlement', () => {
  assert.deepEqual(settlementOf('committed'), { during: 'committing', step: 'commit', final: 'committed' });
  assert.deepEqual(settlementOf('expired'), { during: 'releasing', step: 'release', final: 'expired' });
});

test('a reservation is answered with its proto status and an ISO expiry', () => {
  const expiresAt = new Date('2030-01-01T00:00:00.000Z');
  assert.deepEqual(toReservation({ id: 'r', state: 'committing', lines, expiresAt }), {
    id: 'r',
    status: ReservationStatus.RESERVATION_STATUS_COMMITTED,
    lines,
    expiresAt: '2030-01-01T00:00:00.000Z',
  });
});
