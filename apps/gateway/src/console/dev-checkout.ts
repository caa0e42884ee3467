import { newEventId, signedCheckoutEvent as signCheckoutEvent } from '@oms/stripe-webhooks';
import type { OrderJson } from '../schemas';

/** The developer actions: what a customer paying, or letting the Checkout Session lapse, makes Stripe send. */
export const DEV_CHECKOUT_EVENTS = {
  pay: 'checkout.session.completed',
  expire: 'checkout.session.expired',
} as const;
export type DevCheckoutAction = keyof typeof DEV_CHECKOUT_EVENTS;

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
  const { body, signature, eventId } = signCheckoutEvent(DEV_CHECKOUT_EVENTS[action], order, {
    secret,
    // Marks the event as the console's wherever its id is seen (payment records, logs).
    eventId: newEventId('evt_console_'),
  });
  return { rawBody: Buffer.from(body, 'utf8'), signature, eventId };
}
