import { status } from '@grpc/grpc-js';
import type Stripe from 'stripe';
import type { PaymentServiceService } from '@oms/contracts';
import { RpcError, notFound, type UnaryHandlers } from '@oms/rpc';
import type { PaymentStore } from './payment-store';
import type { StripeEventHandler } from './stripe-events';

/** Stripe's recommended window against replayed deliveries. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function paymentHandlers(deps: {
  stripe: Stripe;
  store: PaymentStore;
  events: Pick<StripeEventHandler, 'handle'>;
  webhookSecret: string;
}): UnaryHandlers<typeof PaymentServiceService> {
  return {
    async handleStripeWebhook({ rawBody, signature }) {
      let event: Stripe.Event;
      try {
        // Verified over the exact bytes Stripe sent; nothing is parsed before this succeeds.
        event = deps.stripe.webhooks.constructEvent(
          Buffer.from(rawBody),
          signature,
          deps.webhookSecret,
          SIGNATURE_TOLERANCE_SECONDS,
        );
      } catch {
        throw new RpcError(
          status.INVALID_ARGUMENT,
          'invalid_signature',
          'the Stripe-Signature header does not verify',
        );
      }
      await deps.events.handle(event);
      return { received: true };
    },
    async getPayment({ orderId }) {
      const payment = await deps.store.get(orderId);
      if (!payment) throw notFound(`no payment for order ${orderId}`);
      return payment;
    },
  };
}
