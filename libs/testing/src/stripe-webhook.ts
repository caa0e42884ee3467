import {
  LOCAL_WEBHOOK_SECRET,
  signedCheckoutEvent as signCheckoutEvent,
  type CheckoutEventOptions,
  type CheckoutEventType,
  type CheckoutOrder,
  type SignedWebhook,
} from '@oms/stripe-webhooks';

export { LOCAL_WEBHOOK_SECRET, type CheckoutEventType };
export type WebhookOrder = CheckoutOrder;

/**
 * A Stripe webhook delivery for an order's Checkout Session, signed as Stripe signs it (what
 * `stripe trigger` sends), with the local stack's secret unless `options.secret` says otherwise.
 */
export function signedCheckoutEvent(
  type: CheckoutEventType,
  order: WebhookOrder,
  options: Partial<CheckoutEventOptions> = {},
): SignedWebhook {
  return signCheckoutEvent(type, order, { ...options, secret: options.secret ?? LOCAL_WEBHOOK_SECRET });
}
