// Integration tests of the payment store against the real MongoDB-wire server of the local stack.
// Each test uses a database of its own and drops it afterwards.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PaymentStatus, type OrderCreatedData } from '@oms/contracts';
import { relayNothing } from '@oms/messaging';
import { openTestDatabase } from '@oms/testing';
import { newPayment, PaymentStore } from './payment-store';

async function openStore(t: TestContext): Promise<PaymentStore> {
  // Nothing is published here: staged events stay in the documents.
  return PaymentStore.open(await openTestDatabase(t, 'payment_test'), relayNothing);
}

const order = (orderId: string): OrderCreatedData => ({
  orderId,
  customerId: 'c1',
  items: [{ itemId: 'margherita', name: 'Margherita', quantity: 1, unitPriceCents: 1250 }],
  totalCents: 1250,
  currency: 'usd',
});

/** The status as the RPC answers it, and as the document stores it. */
async function statusOf(store: PaymentStore, orderId: string) {
  return [(await store.get(orderId))?.status, (await store.document(orderId))?.status];
}

test('a payment answers its status as the proto enum and stores it by its lowercase name', async (t) => {
  const store = await openStore(t);
  await store.recordPending(newPayment(order('ord_paid'), {}));
  assert.deepEqual(await statusOf(store, 'ord_paid'), [
    PaymentStatus.PAYMENT_STATUS_SESSION_PENDING,
    'session_pending',
  ]);

  const session = { id: 'cs_1', url: 'https://checkout.stripe.com/c/pay/cs_1' };
  assert.equal(await store.sessionCreated('ord_paid', session), true);
  assert.deepEqual(await statusOf(store, 'ord_paid'), [
    PaymentStatus.PAYMENT_STATUS_AWAITING_PAYMENT,
    'awaiting_payment',
  ]);

  const paid = { orderId: 'ord_paid', checkoutSessionId: 'cs_1', amountCents: 1250, currency: 'usd' };
  assert.equal(await store.markPaid('ord_paid', paid), true);
  assert.deepEqual(await statusOf(store, 'ord_paid'), [PaymentStatus.PAYMENT_STATUS_PAID, 'paid']);

  await store.recordWithSession(newPayment(order('ord_failed'), {}), { id: 'cs_2', url: session.url });
  assert.equal(await store.markFailed('ord_failed', 'session_expired'), true);
  assert.deepEqual(await statusOf(store, 'ord_failed'), [PaymentStatus.PAYMENT_STATUS_FAILED, 'failed']);
});

test('recording with a session returns the event to publish: again for a repeat, none once the payment moved on', async (t) => {
  const store = await openStore(t);
  const session = { id: 'cs_3', url: 'https://checkout.stripe.com/c/pay/cs_3' };
  const announced = await store.recordWithSession(newPayment(order('ord_new'), {}), session);
  assert.equal(announced?.type, 'payment.session_created');
  assert.deepEqual(announced?.data, {
    orderId: 'ord_new',
    checkoutSessionId: 'cs_3',
    paymentUrl: session.url,
  });
  const recorded = await store.document('ord_new');
  assert.equal(recorded?.status, 'awaiting_payment');
  assert.equal(recorded?.outboxPending, undefined, 'nothing staged: the caller publishes it');

  // order.created delivered again (a crash came before its ack): the same announcement again.
  const repeated = await store.recordWithSession(newPayment(order('ord_new'), {}), session);
  assert.deepEqual(repeated?.data, announced?.data);
  assert.equal((await store.document('ord_new'))?.v, 0, 'and no write');

  // A payment recorded pending (Stripe was away) moves on through its outbox instead.
  await store.recordPending(newPayment(order('ord_pending'), {}));
  assert.equal(await store.recordWithSession(newPayment(order('ord_pending'), {}), session), undefined);
  const moved = await store.document('ord_pending');
  assert.equal(moved?.status, 'awaiting_payment');
  assert.equal(moved?.outboxPending, true);

  const paid = { orderId: 'ord_new', checkoutSessionId: 'cs_3', amountCents: 1250, currency: 'usd' };
  assert.equal(await store.markPaid('ord_new', paid), true);
  assert.equal(await store.recordWithSession(newPayment(order('ord_new'), {}), session), undefined);
});
