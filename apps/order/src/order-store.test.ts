// Integration tests of the order store against the real MongoDB-wire server of the local stack.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { OrderStatus } from '@oms/contracts';
import { ensureStack, stackAddresses } from '@oms/testing';
import { OrderStore } from './order-store';

async function openStore(t: TestContext): Promise<OrderStore> {
  await ensureStack({ only: ['mongo'] });
  const client = new MongoClient((await stackAddresses()).MONGO_URL!, { retryWrites: false });
  await client.connect();
  const db = client.db(`order_test_${randomBytes(5).toString('hex')}`);
  t.after(async () => {
    await db.dropDatabase();
    await client.close();
  });
  return OrderStore.open(db, () => ({ handOff: () => undefined }));
}

const newOrder = (id: string, expiresAt: Date) => ({
  id,
  customerId: 'alice',
  items: [{ itemId: 'pizza', name: 'Pizza', quantity: 1, unitPriceCents: 900, lineTotalCents: 900 }],
  totalCents: 900,
  currency: 'usd',
  expiresAt,
});

test('a payment after the reservation lapsed does not mark the order paid', async (t) => {
  const store = await openStore(t);
  await store.insertPending(newOrder('ord_lapsed', new Date(Date.now() - 1000)));
  await store.insertPending(newOrder('ord_held', new Date(Date.now() + 60_000)));
  for (const id of ['ord_lapsed', 'ord_held'])
    await store.transition(id, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT, { paymentUrl: 'https://pay' });

  assert.equal(await store.transition('ord_lapsed', OrderStatus.ORDER_STATUS_PAID), undefined);
  assert.equal((await store.get('ord_lapsed'))?.status, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
  assert.equal(
    (await store.transition('ord_held', OrderStatus.ORDER_STATUS_PAID))?.status,
    OrderStatus.ORDER_STATUS_PAID,
  );
  // Expiry still ends the lapsed one as before.
  const failed = await store.transition('ord_lapsed', OrderStatus.ORDER_STATUS_FAILED, {
    reason: 'reservation_expired',
  });
  assert.equal(failed?.status, OrderStatus.ORDER_STATUS_FAILED);
});
