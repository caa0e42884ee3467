import type { Db } from 'mongodb';
import type Stripe from 'stripe';
import type { Logger } from '@oms/logging';
import { Inbox } from '@oms/messaging';
import { setOrderId } from '@oms/telemetry';
import type { PaymentStore } from './payment-store';

/** The part of a Checkout Session the webhook acts on. */
type SessionFields = Pick<
  Stripe.Checkout.Session,
  'id' | 'metadata' | 'client_reference_id' | 'payment_status' | 'amount_total' | 'currency'
>;

/**
 * Applies verified Stripe events to payments at most once, through the same inbox as the
 * service's broker events (consumer `payment.stripe-webhook`). The payment's compare-and-set
 * status change is what makes a redelivery harmless; the inbox answers it early.
 */
export class StripeEventHandler {
  static readonly CONSUMER = 'payment.stripe-webhook';

  private constructor(
    private readonly inbox: Inbox,
    private readonly store: PaymentStore,
    private readonly logger: Logger,
  ) {}

  static async open(db: Db, store: PaymentStore, logger: Logger): Promise<StripeEventHandler> {
    return new StripeEventHandler(await Inbox.open(db, StripeEventHandler.CONSUMER), store, logger);
  }

  async handle(event: Stripe.Event): Promise<string> {
    const session = event.data.object as Partial<SessionFields>;
    const orderId = session.metadata?.orderId ?? session.client_reference_id ?? null;
    if (orderId) setOrderId(orderId);
    let outcome = 'duplicate';
    await this.inbox.once(event.id, async () => {
      outcome = await this.apply(event.type, session, orderId, event.id);
    });
    this.logger.info(
      { eventId: event.id, type: event.type, 'order.id': orderId, outcome },
      'stripe event handled',
    );
    return outcome;
  }

  private async apply(
    type: string,
    session: Partial<SessionFields>,
    orderId: string | null,
    eventId: string,
  ): Promise<string> {
    switch (type) {
      case 'checkout.session.completed': {
        if (session.payment_status !== 'paid') return 'not_paid_yet';
        if (!orderId) return 'no_order';
        const payment = await this.store.document(orderId);
        if (!payment) return 'unknown_order';
        const amount = session.amount_total ?? null;
        const currency = session.currency ?? null;
        if (amount !== payment.amountCents || currency !== payment.currency) {
          await this.store.recordMismatch(orderId, eventId, amount, currency);
          this.logger.warn(
            { 'order.id': orderId, amount, currency, expected: [payment.amountCents, payment.currency] },
            'paid amount does not match the order',
          );
          return 'amount_mismatch';
        }
        const paid = await this.store.markPaid(orderId, {
          orderId,
          checkoutSessionId: session.id ?? '',
          amountCents: amount,
          currency,
        });
        return paid ? 'paid' : 'already_settled';
      }
      case 'checkout.session.expired':
      case 'checkout.session.async_payment_failed': {
        if (!orderId) return 'no_order';
        const failed = await this.store.markFailed(
          orderId,
          type === 'checkout.session.expired' ? 'session_expired' : 'async_payment_failed',
        );
        return failed ? 'failed' : 'already_settled';
      }
      default:
        return 'ignored';
    }
  }
}
