import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import type { OrderJson } from '../schemas';

/** The developer actions: what a customer paying, or letting the Checkout Session lapse, makes Stripe send. */
export const DEV_CHECKOUT_EVENTS = {
  pay: 'checkout.session.completed',
  expire: 'checkout.session.expired',
} as const;
export type DevCheckoutAction = keyof typeof DEV_CHECKOUT_EVENTS;

/** A signing-only client: it never calls Stripe. */
const signer = new Stripe('sk_test_console_signing_only');

/**
 * The webhook Stripe would send for the order's Checkout Session, signed with the webhook secret
 * as `npm run pay` signs it. Development only: the console's routes for it are not registered in
 * production.
 */
export function signedCheckoutEvent(
  action: DevCheckoutAction,
  order: Pick<OrderJson, 'id' | 'customerId' | 'totalCents' | 'currency'>,
  secret: string,
): { rawBody: Buffer; signature: string; eventId: string } {
  const type = DEV_CHECKOUT_EVENTS[action];
  const eventId = `evt_console_${randomUUID().replace(/-/g, '')}`;
  const body = JSON.stringify({
    id: eventId,
    object: 'event',
    api_version: '2025-01-27.acacia',
    created: Math.floor(Date.now() / 1000),
    type,
    livemode: false,
    data: {
      object: {
        id: `cs_test_${order.id}`,
        object: 'checkout.session',
        client_reference_id: order.id,
        metadata: { orderId: order.id, customerId: order.customerId },
        amount_total: order.totalCents,
        currency: order.currency,
        payment_status: action === 'pay' ? 'paid' : 'unpaid',
        status: action === 'pay' ? 'complete' : 'expired',
      },
    },
  });
  const signature = signer.webhooks.generateTestHeaderString({ payload: body, secret });
  return { rawBody: Buffer.from(body, 'utf8'), signature, eventId };
}
