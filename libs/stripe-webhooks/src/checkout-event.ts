/**
 * The webhook Stripe sends about an order's Checkout Session, built and signed as Stripe builds and
 * signs it: for the console's development actions, `npm run pay` and the tests, so that all of them
 * send the payment service what Stripe would.
 */
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';

/** The local stack's webhook signing secret: a development value, never a real endpoint's. */
export const LOCAL_WEBHOOK_SECRET = 'whsec_oms_local_dev';

/** The Checkout Session events the payment service acts on. */
export type CheckoutEventType =
  'checkout.session.completed' | 'checkout.session.expired' | 'checkout.session.async_payment_failed';

/** The order a Checkout Session was made for, as its event names it. */
export interface CheckoutOrder {
  id: string;
  customerId: string;
  totalCents: number;
  currency: string;
}

export interface CheckoutEventOptions {
  /** The endpoint's signing secret (`whsec_…`) that the receiver verifies with. */
  secret: string;
  /** Default: a new id (`newEventId()`). */
  eventId?: string;
  /** The amount the session reports; default the order's total. */
  amountCents?: number;
  /** When it was signed, in Unix seconds; default now (a receiver refuses signatures older than 300 s). */
  timestamp?: number;
}

/** A webhook delivery: the raw JSON body and its `Stripe-Signature` header. */
export interface SignedWebhook {
  body: string;
  signature: string;
  eventId: string;
}

/** A signing-only client: it never calls Stripe, so its key is never used. */
const signer = new Stripe('sk_test_signing_only');

/** A new event id in Stripe's form (`evt_` and 32 hex digits); `prefix` tells who made it. */
export function newEventId(prefix = 'evt_'): string {
  return `${prefix}${randomUUID().replace(/-/g, '')}`;
}

/** The event Stripe sends when the order's Checkout Session completes, expires or its payment fails. */
export function signedCheckoutEvent(
  type: CheckoutEventType,
  order: CheckoutOrder,
  options: CheckoutEventOptions,
): SignedWebhook {
  const eventId = options.eventId ?? newEventId();
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
  const signature = signer.webhooks.generateTestHeaderString({
    payload: body,
    secret: options.secret,
    timestamp: options.timestamp,
  });
  return { body, signature, eventId };
}
