import type Stripe from 'stripe';
import { wrap, type IPolicy } from 'cockatiel';
import { SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { retryAndBreaker } from '@oms/resilience';
import { ORDER_ID_ATTRIBUTE } from '@oms/telemetry/api';
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
  /** Stripe's API: where the SDK connects (`stripeConnection`), and the server the CLIENT span names. */
  apiUrl: URL;
  successUrl: string;
  cancelUrl: string;
}

/** The Stripe SDK's host, port and protocol for an API URL such as http://127.0.0.1:12111. */
export function stripeConnection(apiUrl: URL): { host: string; port: number; protocol: 'http' | 'https' } {
  const protocol = apiUrl.protocol === 'https:' ? 'https' : 'http';
  return { host: apiUrl.hostname, port: Number(apiUrl.port || (protocol === 'https' ? 443 : 80)), protocol };
}

const tracer = trace.getTracer('@oms/payment');
const CREATE_SESSION = { method: 'POST', template: '/v1/checkout/sessions' } as const;

/**
 * Runs one request to Stripe's API in a CLIENT span, after OpenTelemetry's HTTP client conventions.
 * It stands in for the http auto-instrumentation, which @oms/telemetry leaves off: that one wrapped
 * every outgoing request of every service (Consul's polling included) to make this one span, and
 * its span did not say which order it paid for.
 */
async function inStripeSpan<T extends { lastResponse?: { statusCode: number } }>(
  requestAttributes: Attributes,
  orderId: string,
  request: () => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(`${CREATE_SESSION.method} ${CREATE_SESSION.template}`, {
    kind: SpanKind.CLIENT,
    attributes: { ...requestAttributes, [ORDER_ID_ATTRIBUTE]: orderId },
  });
  try {
    const response = await request();
    if (response.lastResponse)
      span.setAttribute('http.response.status_code', response.lastResponse.statusCode);
    return response;
  } catch (error) {
    const { statusCode, type } = (error ?? {}) as { statusCode?: unknown; type?: unknown };
    if (typeof statusCode === 'number') span.setAttribute('http.response.status_code', statusCode);
    span.setAttribute('error.type', typeof type === 'string' ? type : 'Error');
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Creates Checkout Sessions through the official SDK behind a breaker and retries. Retrying is
 * safe because every attempt carries the same idempotency key.
 */
export class Checkout {
  readonly policy: IPolicy;
  private readonly breaker;
  /** What every Stripe span says of the request and the server, made once. */
  private readonly spanAttributes: Attributes;

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
    const { host, port } = stripeConnection(options.apiUrl);
    this.spanAttributes = {
      'http.request.method': CREATE_SESSION.method,
      'url.template': CREATE_SESSION.template,
      'server.address': host,
      'server.port': port,
    };
  }

  breakerState(): string {
    return String(this.breaker.state);
  }

  async createSession(
    payment: Pick<PaymentDocument, '_id' | 'customerId' | 'items' | 'currency'>,
  ): Promise<{ id: string; url: string }> {
    const session = await this.policy.execute(() =>
      inStripeSpan(this.spanAttributes, payment._id, () =>
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
      ),
    );
    if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
    return { id: session.id, url: session.url };
  }
}
