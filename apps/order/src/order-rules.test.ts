import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderStatus } from '@oms/contracts';
import { DomainError } from '@oms/domain';
import { canTransition, notCancellable, orderIdFor, priceLines, validateOrderRequest } from './order-rules';

const menu = [
  { id: 'margherita', name: 'Margherita', description: '', priceCents: 1250, currency: 'usd' },
  { id: 'tiramisu', name: 'Tiramisu', description: '', priceCents: 650, currency: 'usd' },
];

test('lines with the same item are merged and sorted', () => {
  assert.deepEqual(
    validateOrderRequest('c1', [
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

test('a merged quantity over 100 is invalid', () => {
  assert.throws(
    () =>
      validateOrderRequest('c1', [
        { itemId: 'a', quantity: 60 },
        { itemId: 'a', quantity: 41 },
      ]),
    (e: unknown) => e instanceof DomainError && e.kind === 'invalid',
  );
});

test('bad customer ids, empty orders and out-of-range quantities are invalid', () => {
  for (const [customer, lines] of [
    ['bad id!', [{ itemId: 'a', quantity: 1 }]],
    ['c1', []],
    ['c1', [{ itemId: 'a', quantity: 0 }]],
    ['c1', [{ itemId: 'a', quantity: 101 }]],
    ['c1', [{ itemId: 'a', quantity: 1.5 }]],
    ['c1', Array.from({ length: 51 }, (_, i) => ({ itemId: `i${i}`, quantity: 1 }))],
  ] as const) {
    assert.throws(
      () => validateOrderRequest(customer, lines),
      DomainError,
      JSON.stringify([customer, lines.length]),
    );
  }
});

test('totals come from menu prices in integer cents', () => {
  const priced = priceLines(
    [
      { itemId: 'margherita', quantity: 2 },
      { itemId: 'tiramisu', quantity: 3 },
    ],
    menu,
  );
  assert.equal(priced.totalCents, 2 * 1250 + 3 * 650);
  assert.equal(priced.currency, 'usd');
  assert.deepEqual(priced.items[1], {
    itemId: 'tiramisu',
    name: 'Tiramisu',
    quantity: 3,
    unitPriceCents: 650,
    lineTotalCents: 1950,
  });
});

test('unknown items are reported with their ids', () => {
  assert.throws(
    () =>
      priceLines(
        [
          { itemId: 'margherita', quantity: 1 },
          { itemId: 'ghost', quantity: 1 },
        ],
        menu,
      ),
    (e: unknown) =>
      e instanceof DomainError &&
      e.kind === 'invalid' &&
      e.reason === 'unknown_item' &&
      JSON.stringify(e.details) === '[{"itemId":"ghost"}]',
  );
});

test('the same customer and request id always give the same order id; others differ', () => {
  assert.equal(orderIdFor('c1', 'key'), orderIdFor('c1', 'key'));
  assert.notEqual(orderIdFor('c1', 'key'), orderIdFor('c2', 'key'));
  assert.notEqual(orderIdFor('c1', ''), orderIdFor('c1', ''));
  assert.match(orderIdFor('c1', 'key'), /^[A-Za-z0-9_-]{1,64}$/);
});

test('status moves only forward; cancel and fail only before payment; terminal stays', () => {
  const S = OrderStatus;
  assert.equal(canTransition(S.ORDER_STATUS_PENDING, S.ORDER_STATUS_AWAITING_PAYMENT), true);
  assert.equal(
    canTransition(S.ORDER_STATUS_PENDING, S.ORDER_STATUS_PAID),
    true,
    'a late awaiting_payment may be skipped',
  );
  assert.equal(canTransition(S.ORDER_STATUS_PAID, S.ORDER_STATUS_AWAITING_PAYMENT), false);
  assert.equal(
    canTransition(S.ORDER_STATUS_READY, S.ORDER_STATUS_PAID),
    false,
    'a late paid after ready changes nothing',
  );
  assert.equal(canTransition(S.ORDER_STATUS_PREPARING, S.ORDER_STATUS_READY), true);
  assert.equal(canTransition(S.ORDER_STATUS_AWAITING_PAYMENT, S.ORDER_STATUS_CANCELLED), true);
  assert.equal(canTransition(S.ORDER_STATUS_PAID, S.ORDER_STATUS_CANCELLED), false);
  assert.equal(canTransition(S.ORDER_STATUS_PAID, S.ORDER_STATUS_FAILED), false);
  assert.equal(canTransition(S.ORDER_STATUS_CANCELLED, S.ORDER_STATUS_PAID), false);
  assert.equal(canTransition(S.ORDER_STATUS_FAILED, S.ORDER_STATUS_CANCELLED), false);
  assert.equal(canTransition(S.ORDER_STATUS_PAID, S.ORDER_STATUS_PAID), false);
});

test('a refusal is a domain error with a reason, not a transport status', () => {
  const error = notCancellable(OrderStatus.ORDER_STATUS_PAID);
  assert.ok(error instanceof DomainError);
  assert.equal(error.kind, 'precondition_failed');
  assert.equal(error.reason, 'not_cancellable');
  assert.match(error.message, /paid/);
});
