// Integration tests of the order store against the real MongoDB-wire server of the local stack.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { OrderStatus } from '@oms/contracts';
import { relayNothing } from '@oms/messaging';
import { openTestDatabase } from '@oms/testing';
import { OrderStore } from './order-store';

async function openStore(t: TestContext): Promise<OrderStore> {
  return OrderStore.open(await openTestDatabase(t, 'order_test'), relayNothing);
}

const newOrder = (id: string, expiresAt: Date) => ({
  id,
  customerId: 'alice',
  items: [{ itemId: 'pizza', name: 'Pizza', quantity: 1, unitPriceCents: 900, lineTotalCents: 900 }],
  totalCents: 900,
  currency: 'usd',
  expiresAt,
});

test('a payment claims an order only while its reservation holds, and only a claimed order is paid', async (t) => {
  const store = await openStore(t);
  await store.insertPending(newOrder('ord_lapsed', new Date(Date.now() - 1000)));
  await store.insertPending(newOrder('ord_held', new Date(Date.now() + 60_000)));
  for (const id of ['ord_lapsed', 'ord_held'])
    await store.transition(id, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT, { paymentUrl: 'https://pay' });

  assert.equal(await store.claimForPayment('ord_lapsed'), false, 'lapsed: a refund case');
  assert.equal(await store.transition('ord_held', OrderStatus.ORDER_STATUS_PAID), undefined, 'not claimed');
  assert.equal(await store.claimForPayment('ord_held'), true);
  // A claim is made again after the reservation's time (a redelivered event finishing it).
  assert.equal(await store.claimForPayment('ord_held', new Date(Date.now() + 120_000)), true);
  const paid = await store.transition('ord_held', OrderStatus.ORDER_STATUS_PAID);
  assert.equal(paid?.status, OrderStatus.ORDER_STATUS_PAID);
  assert.equal(await store.claimForPayment('ord_held'), false, 'paid: nothing to claim');

  // Expiry still ends the lapsed one as before.
  const failed = await store.transition('ord_lapsed', OrderStatus.ORDER_STATUS_FAILED, {
    reason: 'reservation_expired',
  });
  assert.equal(failed?.status, OrderStatus.ORDER_STATUS_FAILED);
});

test('cancel and expiry leave an order claimed for payment alone; its own payment may fail it', async (t) => {
  const store = await openStore(t);
  await store.insertPending(newOrder('ord_claimed', new Date(Date.now() + 60_000)));
  assert.equal(await store.claimForPayment('ord_claimed'), true);

  assert.equal(await store.transition('ord_claimed', OrderStatus.ORDER_STATUS_CANCELLED), undefined);
  assert.equal(await store.transition('ord_claimed', OrderStatus.ORDER_STATUS_FAILED), undefined);
  assert.equal((await store.get('ord_claimed'))?.status, OrderStatus.ORDER_STATUS_PENDING);

  const failed = await store.transition(
    'ord_claimed',
    OrderStatus.ORDER_STATUS_FAILED,
    { reason: 'reservation_expired' },
    { settlingPayment: true },
  );
  assert.equal(failed?.status, OrderStatus.ORDER_STATUS_FAILED);
  // The claim went with it: a late redelivery of the payment finds nothing to pay.
  assert.equal(await store.claimForPayment('ord_claimed'), false);
  assert.equal(await store.transition('ord_claimed', OrderStatus.ORDER_STATUS_PAID), undefined);
});
