import { status } from '@grpc/grpc-js';
import type Stripe from 'stripe';
import type { PaymentServiceService } from '@oms/contracts';
import type { Logger } from '@oms/logging';
import { RpcError, notFound, type UnaryHandlers } from '@oms/rpc';
import type { PaymentStore } from './payment-store';

/** Stripe's recommended window against replayed deliveries. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Event types that change an order; until their handling lands, Stripe is asked to redeliver. */
const ORDER_EVENTS = new Set([
  'checkout.session.completed',
  'checkout.session.expired',
  'checkout.session.async_payment_failed',
]);

export function paymentHandlers(deps: {
  stripe: Stripe;
  store: PaymentStore;
  webhookSecret: string;
  logger: Logger;
}): UnaryHandlers<typeof PaymentServiceService> {
  return {
    async handleStripeWebhook({ rawBody, signature }) {
      let event: Stripe.Event;
      try {
        event = deps.stripe.webhooks.constructEvent(Buffer.from(rawBody), signature, deps.webhookSecret, SIGNATURE_TOLERANCE_SECONDS);
      } catch {
        throw new RpcError(status.INVALID_ARGUMENT, 'invalid_signature', 'the Stripe-Signature header does not verify');
      }
      if (ORDER_EVENTS.has(event.type)) {
        // Not acknowledged, so Stripe keeps the event and delivers it again: nothing is lost.
        deps.logger.warn({ eventId: event.id, type: event.type }, 'order payment events are not processed yet');
        throw new RpcError(status.UNAVAILABLE, 'unavailable', 'payment event processing is not enabled yet', [], 60);
      }
      return { received: true };
    },
    async getPayment({ orderId }) {
      const payment = await deps.store.get(orderId);
      if (!payment) throw notFound(`no payment for order ${orderId}`);
      return payment;
    },
  };
}
