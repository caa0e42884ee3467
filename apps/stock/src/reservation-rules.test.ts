import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReservationStatus } from '@oms/contracts';
import { DomainError, type DomainErrorKind } from '@oms/domain';
import {
  commitPlan,
  finalState,
  releasePlan,
  replayReserve,
  reserveAnswer,
  toReservation,
  validateItemIds,
  validateQuantityToSet,
  validateReservationId,
  validateReserveRequest,
} from './reservation-rules';

const domainError = (kind: DomainErrorKind, reason: string) => (error: unknown) =>
  error instanceof DomainError && error.kind === kind && error.reason === reason;
const invalid = domainError('invalid', 'invalid_argument');

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
      (error as DomainError).details.map((d) => d.field).join(',') ===
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

// --- a reservation's life -----------------------------------------------------------------------

const lines = [{ itemId: 'a', quantity: 1 }];

test('a repeated reserve takes the holds of a pending one again and answers any other', () => {
  assert.equal(replayReserve('r', { lines, state: 'pending' }, lines), 'take-holds');
  for (const state of ['reserved', 'committing', 'committed', 'releasing', 'rejected'] as const)
    assert.equal(replayReserve('r', { lines, state }, lines), 'answer');
});

test('a repeated reserve with other lines is refused', () => {
  assert.throws(
    () => replayReserve('r', { lines, state: 'reserved' }, [{ itemId: 'a', quantity: 2 }]),
    domainError('already_exists', 'reservation_id_reused'),
  );
});

test('a reserve arriving after its own release (an empty reservation) is refused', () => {
  assert.throws(
    () => replayReserve('r', { lines: [], state: 'released' }, lines),
    domainError('precondition_failed', 'reservation_released'),
  );
});

test('reserve answers a rejected reservation with its short lines again', () => {
  const shortLines = [{ itemId: 'a', requested: 2, available: 1 }];
  for (const facts of [
    { lines, state: 'rejected' as const, shortLines },
    { lines, state: 'releasing' as const, endsAs: 'rejected' as const, shortLines },
  ]) {
    assert.throws(
      () => reserveAnswer('r', facts),
      (error: unknown) =>
        domainError('precondition_failed', 'out_of_stock')(error) &&
        (error as DomainError).details[0]?.itemId === 'a',
    );
  }
  assert.throws(
    () => reserveAnswer('r', { lines, state: 'expired' }),
    domainError('precondition_failed', 'reservation_released'),
  );
  assert.equal(reserveAnswer('r', { lines, state: 'committed' }), 'return');
  assert.equal(reserveAnswer('r', { lines, state: 'reserved' }), 'return');
});

test('commit that found no reserved reservation finishes a commit, or refuses', () => {
  assert.equal(commitPlan('r', { state: 'committing' }), 'finish');
  assert.equal(commitPlan('r', { state: 'committed' }), 'done');
  assert.throws(
    () => commitPlan('r', { state: 'pending' }),
    domainError('precondition_failed', 'reservation_pending'),
  );
  for (const state of ['released', 'expired', 'rejected', 'releasing'] as const) {
    assert.throws(
      () => commitPlan('r', { state, endsAs: 'expired' }),
      domainError('precondition_failed', 'reservation_released'),
    );
  }
});

test('release that found no undecided reservation finishes a release, or refuses a commit', () => {
  assert.equal(releasePlan('r', 'releasing'), 'finish');
  for (const state of ['released', 'expired', 'rejected'] as const)
    assert.equal(releasePlan('r', state), 'done');
  for (const state of ['committing', 'committed'] as const) {
    assert.throws(() => releasePlan('r', state), domainError('precondition_failed', 'reservation_committed'));
  }
});

test('each decided ending has its final state', () => {
  assert.equal(finalState({ state: 'committing' }), 'committed');
  assert.equal(finalState({ state: 'releasing', endsAs: 'expired' }), 'expired');
  assert.equal(finalState({ state: 'releasing' }), 'released');
  assert.equal(finalState({ state: 'reserved' }), 'reserved');
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
