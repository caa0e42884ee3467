import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkInvariants, type Evidence } from './invariants';

const NOW = new Date('2026-11-30T12:00:00Z');
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);
const INITIAL = 10;

/** One item, `reserved` of it reserved and the rest available, with the given records. */
function evidence({
  reserved,
  orders = [],
  reservations = [],
}: {
  reserved: number;
  orders?: Evidence['orders'];
  reservations?: Evidence['reservations'];
}): Evidence {
  return {
    orders,
    items: [{ _id: 'soup', available: INITIAL - reserved, reserved, committed: 0 }],
    reservations,
    tickets: [],
    known: new Map(),
    initialStock: INITIAL,
    deadLetters: [],
    rss: new Map(),
  };
}

const order = (id: string, status: string, expiresIn: number): Evidence['orders'][number] => ({
  _id: id,
  status,
  items: [{ itemId: 'soup', quantity: 2 }],
  history: [{ status: 'pending', at: NOW }],
  expiresAt: at(expiresIn),
});

const reservation = (id: string, status: string, expiresIn: number): Evidence['reservations'][number] => ({
  _id: id,
  status,
  lines: [{ itemId: 'soup', quantity: 2 }],
  heldAll: true,
  expiresAt: at(expiresIn),
});

function stockFailures(input: Evidence): string[] {
  const stock = checkInvariants(input, NOW).find((invariant) => invariant.name.startsWith('stock'));
  assert.ok(stock, 'the stock invariant is checked');
  return stock.failures;
}

test("an open order's reservation accounts for its reserved stock", () => {
  const failures = stockFailures(
    evidence({
      reserved: 2,
      orders: [order('o1', 'pending', 30)],
      reservations: [reservation('o1', 'reserved', 30)],
    }),
  );
  assert.deepEqual(failures, []);
});

test('a reservation whose order was never stored holds its stock until it lapses', () => {
  assert.deepEqual(
    stockFailures(evidence({ reserved: 2, reservations: [reservation('o1', 'reserved', 30)] })),
    [],
  );
  const lapsedLongAgo = stockFailures(
    evidence({ reserved: 2, reservations: [reservation('o1', 'reserved', -120)] }),
  );
  assert.equal(lapsedLongAgo.length, 1);
  assert.match(lapsedLongAgo[0]!, /reservation o1 has no order and lapsed at .*, but still holds stock/);
});

test('reserved stock that no reservation holds is a leak', () => {
  const failures = stockFailures(evidence({ reserved: 2 }));
  assert.ok(failures.includes("item soup: 2 reserved, but stock's reservations hold 0"), failures.join('\n'));
  assert.ok(failures.some((failure) => /open orders and orderless reservations hold 0\.\.0/.test(failure)));
});

test('a reservation still held for an order that ended is a leak', () => {
  const failures = stockFailures(
    evidence({
      reserved: 2,
      orders: [order('o1', 'cancelled', 30)],
      reservations: [reservation('o1', 'reserved', 30)],
    }),
  );
  assert.ok(
    failures.includes('reservation o1 (reserved) holds stock, but its order ended cancelled'),
    failures.join('\n'),
  );
});

test('a released reservation holds nothing', () => {
  const failures = stockFailures(
    evidence({
      reserved: 0,
      orders: [order('o1', 'cancelled', 30)],
      reservations: [reservation('o1', 'released', 30)],
    }),
  );
  assert.deepEqual(failures, []);
});
