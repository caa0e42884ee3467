import type { Logger } from '@oms/logging';
import { withCapturedTraceContext } from '@oms/messaging';
import { setOrderId } from '@oms/telemetry';
import type { Checkout } from './checkout';
import type { PaymentDocument, PaymentStore } from './payment-store';

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * Gets every recorded order its Checkout Session. Tried at once when order.created arrives; while
 * Stripe is unreachable the order stays pending and this loop tries again with backoff, so an
 * outage loses and fails nothing.
 */
export class SessionCreator {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly store: PaymentStore,
    private readonly checkout: Checkout,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Returns true when the session exists now. */
  async attempt(payment: PaymentDocument): Promise<boolean> {
    if (payment.status !== 'session_pending') return true;
    setOrderId(payment._id);
    try {
      const session = await this.checkout.createSession(payment);
      await this.store.sessionCreated(payment._id, session);
      return true;
    } catch (error) {
      const attempts = payment.attempts + 1;
      const delay = Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** Math.min(attempts, 6));
      this.logger.warn(
        { err: error, 'order.id': payment._id, attempts },
        'checkout session not created yet; will retry',
      );
      await this.store.sessionAttemptFailed(payment._id, attempts, new Date(Date.now() + delay));
      return false;
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.retryDue()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'session retry round failed'))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async retryDue(): Promise<void> {
    for (const payment of await this.store.dueForSession(new Date(), 50)) {
      // Continue the order's own trace, so Jaeger shows the late session under the order.
      const created = await withCapturedTraceContext(payment.traceContext, () => this.attempt(payment));
      if (!created) return; // Stripe still down: don't hammer it with the rest of the batch
    }
  }
}
