import type Stripe from 'stripe';
import { wrap, type IPolicy } from 'cockatiel';
import { executionSignal, retryAndBreaker } from '@oms/resilience';
import type { PaymentDocument } from './payment-store';

/** Failures a later attempt can cure: Stripe unreachable, overloaded or erring on its side. */
export function isTransientStripeError(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return (
    type === 'StripeConnectionError' ||
    type === 'StripeAPIError' ||
    type === 'StripeRateLimitError' ||
    !(error as { type?: unknown } | null)?.type
  );
}

/** Stripe's idempotency key: a retried or redelivered creation returns the same session. */
export const checkoutIdempotencyKey = (orderId: string) => `oms-checkout-${orderId}`;

export interface CheckoutOptions {
  successUrl: string;
  cancelUrl: string;
}

/**
 * Creates Checkout Sessions through the official SDK behind a breaker and retries. Retrying is
 * safe because every attempt carries the same idempotency key.
 */
export class Checkout {
  readonly policy: IPolicy;
  private readonly breaker;

  constructor(
    private readonly stripe: Stripe,
    private readonly options: CheckoutOptions,
    breakerHalfOpenMs = 5000,
  ) {
    const { retries, breaker } = retryAndBreaker({
      retryWhen: isTransientStripeError,
      breakWhen: isTransientStripeError,
      retryAttempts: 2,
      backoffMs: { initial: 100, max: 1000 },
      breakerFailures: 3,
      breakerHalfOpenMs,
    });
    this.breaker = breaker;
    this.policy = wrap(retries, breaker);
  }

  breakerState(): string {
    return String(this.breaker.state);
  }

  async createSession(
    payment: Pick<PaymentDocument, '_id' | 'customerId' | 'items' | 'currency'>,
  ): Promise<{ id: string; url: string }> {
    const session = await this.policy.execute(
      () =>
        this.stripe.checkout.sessions.create(
          {
            mode: 'payment',
            client_reference_id: payment._id,
            metadata: { orderId: payment._id, customerId: payment.customerId },
            payment_intent_data: { metadata: { orderId: payment._id, customerId: payment.customerId } },
            line_items: payment.items.map((item) => ({
              quantity: item.quantity,
              price_data: {
                currency: payment.currency,
                unit_amount: item.unitPriceCents,
                product_data: { name: item.name },
              },
            })),
            success_url: this.options.successUrl.replace('{ORDER_ID}', payment._id),
            cancel_url: this.options.cancelUrl.replace('{ORDER_ID}', payment._id),
          },
          { idempotencyKey: checkoutIdempotencyKey(payment._id) },
        ),
      executionSignal(),
    );
    if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
    return { id: session.id, url: session.url };
  }
}
