import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';

export const LOCAL_WEBHOOK_SECRET = 'whsec_oms_local_dev';

export interface WebhookOrder {
  id: string;
  customerId: string;
  totalCents: number;
  currency: string;
}

export type CheckoutEventType =
  'checkout.session.completed' | 'checkout.session.expired' | 'checkout.session.async_payment_failed';

/**
 * A Stripe webhook delivery for an order's Checkout Session, signed as Stripe signs it (what
 * `stripe trigger` sends): the raw JSON body and its `Stripe-Signature` header.
 */
export function signedCheckoutEvent(
  type: CheckoutEventType,
  order: WebhookOrder,
  options: { secret?: string; amountCents?: number; eventId?: string; timestamp?: number } = {},
): { body: string; signature: string; eventId: string } {
  const eventId = options.eventId ?? `evt_${randomUUID().replace(/-/g, '')}`;
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
        amount_total: options.amountCents ?? order.totalCents,
        currency: order.currency,
        payment_status: type === 'checkout.session.completed' ? 'paid' : 'unpaid',
        status: type === 'checkout.session.expired' ? 'expired' : 'complete',
      },
    },
  });
  const signature = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({
    payload: body,
    secret: options.secret ?? LOCAL_WEBHOOK_SECRET,
    timestamp: options.timestamp,
  });
  return { body, signature, eventId };
}
