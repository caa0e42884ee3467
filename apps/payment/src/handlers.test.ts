import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { RpcError } from '@oms/rpc';
import { paymentHandlers } from './handlers';
import type { PaymentStore } from './payment-store';

const secret = 'whsec_unit_test';
const stripe = new Stripe('sk_test_unit');
const handled: string[] = [];
const handlers = paymentHandlers({
  stripe,
  store: {} as PaymentStore,
  events: { handle: async (event) => (handled.push(event.id), 'ignored') },
  webhookSecret: secret,
});

function signed(payload: object, options: { secret?: string; timestamp?: number } = {}) {
  const body = JSON.stringify(payload);
  const signature = stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: options.secret ?? secret,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
  });
  return { rawBody: Buffer.from(body), signature };
}

const isInvalidSignature = (e: unknown) =>
  e instanceof RpcError && e.reason === 'invalid_signature' && handled.every((id) => id === 'evt_1');

test('a correctly signed event is handed on and acknowledged', async () => {
  assert.deepEqual(
    await handlers.handleStripeWebhook(signed({ id: 'evt_1', type: 'customer.created', object: 'event' })),
    {
      received: true,
    },
  );
  assert.deepEqual(handled, ['evt_1']);
});

test('a signature made with another secret is rejected', async () => {
  await assert.rejects(
    handlers.handleStripeWebhook(signed({ id: 'evt_2', type: 'x' }, { secret: 'whsec_other' })),
    isInvalidSignature,
  );
});

test('a signature older than the 300 s tolerance is rejected', async () => {
  const stale = signed({ id: 'evt_3', type: 'x' }, { timestamp: Math.floor(Date.now() / 1000) - 301 });
  await assert.rejects(handlers.handleStripeWebhook(stale), isInvalidSignature);
});

test('a body changed after signing is rejected', async () => {
  const { signature } = signed({ id: 'evt_4', type: 'x' });
  await assert.rejects(
    handlers.handleStripeWebhook({ rawBody: Buffer.from('{"id":"evt_4","type":"y"}'), signature }),
    isInvalidSignature,
  );
});

test('a missing signature is rejected', async () => {
  await assert.rejects(
    handlers.handleStripeWebhook({ rawBody: Buffer.from('{}'), signature: '' }),
    isInvalidSignature,
  );
});
