// `npm run pay -- <customerId> <orderId> [completed|expired|failed]`: sends the gateway a
// correctly signed Checkout Session event for an order, as the Stripe CLI's `stripe trigger` would.
import {
  LOCAL_WEBHOOK_SECRET,
  signedCheckoutEvent,
  type CheckoutEventType,
  type CheckoutOrder,
} from '@oms/stripe-webhooks';

const TYPES: Record<string, CheckoutEventType> = {
  completed: 'checkout.session.completed',
  expired: 'checkout.session.expired',
  failed: 'checkout.session.async_payment_failed',
};

async function main(): Promise<void> {
  const [customerId, orderId, kind = 'completed'] = process.argv.slice(2);
  const type = TYPES[kind];
  if (!customerId || !orderId || !type) {
    console.error('usage: npm run pay -- <customerId> <orderId> [completed|expired|failed]');
    process.exit(2);
  }
  const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 8080}`;
  const orderResponse = await fetch(`${gateway}/v1/customers/${customerId}/orders/${orderId}`);
  if (!orderResponse.ok)
    throw new Error(
      `order ${orderId} of ${customerId}: ${orderResponse.status} ${await orderResponse.text()}`,
    );
  const order = (await orderResponse.json()) as CheckoutOrder;
  const { body, signature, eventId } = signedCheckoutEvent(type, order, {
    secret: process.env.STRIPE_WEBHOOK_SECRET ?? LOCAL_WEBHOOK_SECRET,
  });
  const response = await fetch(`${gateway}/v1/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  });
  console.log(`${type} ${eventId} for ${orderId}: ${response.status} ${await response.text()}`);
  if (!response.ok) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
