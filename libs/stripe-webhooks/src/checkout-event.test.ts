import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { newEventId, signedCheckoutEvent, type CheckoutEventType } from './checkout-event';

const secret = 'whsec_unit_test';
const order = { id: 'ord_1', customerId: 'alice', totalCents: 2500, currency: 'usd' };
/** The receiver's side: what the payment service verifies every delivery with. */
const verifier = new Stripe('sk_test_unit');
const verify = (webhook: { body: string; signature: string }, withSecret = secret) =>
  verifier.webhooks.constructEvent(webhook.body, webhook.signature, withSecret);

interface SessionFields {
  id: string;
  object: string;
  client_reference_id: string;
  metadata: Record<string, string>;
  amount_total: number;
  currency: string;
  payment_status: string;
  status: string;
}

test('the event verifies with the secret it was signed with, as Stripe verifies it', () => {
  const webhook = signedCheckoutEvent('checkout.session.completed', order, { secret });
  const event = verify(webhook);
  assert.equal(event.id, webhook.eventId);
  assert.equal(event.type, 'checkout.session.completed');
  assert.deepEqual(event.data.object as unknown as SessionFields, {
    id: 'cs_test_ord_1',
    object: 'checkout.session',
    client_reference_id: 'ord_1',
    metadata: { orderId: 'ord_1', customerId: 'alice' },
    amount_total: 2500,
    currency: 'usd',
    payment_status: 'paid',
    status: 'complete',
  });
});

test('another secret, a changed body or a stale timestamp fails verification', () => {
  const webhook = signedCheckoutEvent('checkout.session.completed', order, { secret });
  assert.throws(() => verify(webhook, 'whsec_other'), Stripe.errors.StripeSignatureVerificationError);
  const changed = { ...webhook, body: webhook.body.replace('2500', '1') };
  assert.throws(() => verify(changed), Stripe.errors.StripeSignatureVerificationError);
  const stale = signedCheckoutEvent('checkout.session.completed', order, {
    secret,
    timestamp: Math.floor(Date.now() / 1000) - 301,
  });
  assert.throws(() => verify(stale), Stripe.errors.StripeSignatureVerificationError);
});

test('each event type carries the session status Stripe reports with it', () => {
  const expected: Record<CheckoutEventType, [string, string]> = {
    'checkout.session.completed': ['paid', 'complete'],
    'checkout.session.expired': ['unpaid', 'expired'],
    'checkout.session.async_payment_failed': ['unpaid', 'complete'],
  };
  for (const [type, [paymentStatus, status]] of Object.entries(expected)) {
    const session = verify(signedCheckoutEvent(type as CheckoutEventType, order, { secret })).data
      .object as unknown as SessionFields;
    assert.deepEqual([session.payment_status, session.status], [paymentStatus, status], type);
  }
});

test('the event id and the amount can be chosen; ids made here are new each time', () => {
  const webhook = signedCheckoutEvent('checkout.session.completed', order, {
    secret,
    eventId: 'evt_chosen',
    amountCents: 1,
  });
  const event = verify(webhook);
  assert.equal(event.id, 'evt_chosen');
  assert.equal((event.data.object as unknown as SessionFields).amount_total, 1);
  assert.match(newEventId(), /^evt_[0-9a-f]{32}$/);
  assert.match(newEventId('evt_console_'), /^evt_console_[0-9a-f]{32}$/);
  assert.notEqual(newEventId(), newEventId());
});
