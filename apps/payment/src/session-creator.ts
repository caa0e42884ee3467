import type { Logger } from '@oms/logging';
import type { EventPublisher } from '@oms/messaging';
import { withCapturedTraceContext } from '@oms/telemetry';
import { setOrderId } from '@oms/telemetry';
import type { Checkout } from './checkout';
import type { PaymentDocument, PaymentStore } from './payment-store';

const MAX_RETRY_DELAY_MS = 30_000;
const BATCH = 50;
/** The longest sleep while no session is pending: the safety net of a missed wake-up. */
export const SESSION_RETRY_IDLE_MS = 30_000;

const retryAt = (attempts: number) =>
  new Date(Date.now() + Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** Math.min(attempts, 6)));

/**
 * Gets every recorded order its Checkout Session. Tried at once when order.created arrives; while
 * Stripe is unreachable the order stays pending and this loop tries again with backoff, so an
 * outage loses and fails nothing. The loop sleeps until the next pending attempt is due (at most
 * SESSION_RETRY_IDLE_MS), so with Stripe up it asks the database twice a minute, not every second.
 */
export class SessionCreator {
  constructor(
    private readonly store: PaymentStore,
    private readonly checkout: Checkout,
    private readonly logger: Logger,
    private readonly retries: { intervalMs: number; loop: { dueBy(at: Date): void } },
    private readonly events: EventPublisher,
  ) {}

  /**
   * The first attempt, when order.created arrives: the session is created first, so that the
   * payment is recorded with it in one write; if Stripe is away, it is recorded pending instead.
   * Its payment.session_created is published (with the broker's confirm) before order.created is
   * acked, so the delivery being consumed is what makes it reliable: a crash in between has
   * order.created delivered again, and the event published again. Staging it in the payment's
   * outbox would cost a second write of the payment, to remove it once published.
   */
  async firstAttempt(payment: Omit<PaymentDocument, 'v'>): Promise<void> {
    setOrderId(payment._id);
    const session = await this.createSession(payment, 1);
    if (session) {
      const announce = await this.store.recordWithSession(payment, session);
      if (announce) await this.events.publish(announce);
      return;
    }
    const nextAttemptAt = retryAt(1);
    await this.store.recordPending({ ...payment, attempts: 1, nextAttemptAt });
    this.retries.loop.dueBy(nextAttemptAt);
  }

  /** A later attempt, from the retry loop. Returns true when the session exists now. */
  async attempt(payment: PaymentDocument): Promise<boolean> {
    if (payment.status !== 'session_pending') return true;
    setOrderId(payment._id);
    const attempts = payment.attempts + 1;
    const session = await this.createSession(payment, attempts);
    if (session) await this.store.sessionCreated(payment._id, session);
    else await this.store.sessionAttemptFailed(payment._id, attempts, retryAt(attempts));
    return session !== undefined;
  }

  private async createSession(
    payment: Omit<PaymentDocument, 'v'>,
    attempts: number,
  ): Promise<{ id: string; url: string } | undefined> {
    try {
      return await this.checkout.createSession(payment);
    } catch (error) {
      this.logger.warn(
        { err: error, 'order.id': payment._id, attempts },
        'checkout session not created yet; will retry',
      );
      return undefined;
    }
  }

  /** One round of the retry loop; returns how long to sleep before the next. */
  async retryDue(): Promise<number> {
    const due = await this.store.dueForSession(new Date(), BATCH);
    for (const payment of due) {
      // Continue the order's own trace, so Jaeger shows the late session under the order.
      const created = await withCapturedTraceContext(payment.traceContext, () => this.attempt(payment));
      if (!created) break; // Stripe still down: don't hammer it with the rest of the batch
    }
    if (due.length === BATCH) return this.retries.intervalMs;
    const next = await this.store.nextSessionAttemptAt();
    return next ? next.getTime() - Date.now() : SESSION_RETRY_IDLE_MS;
  }
}
