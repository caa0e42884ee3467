import type { Collection, Db } from 'mongodb';
import type Stripe from 'stripe';
import type { Logger } from '@oms/logging';
import { isDuplicateKeyError } from '@oms/persistence';
import { setOrderId } from '@oms/telemetry';
import type { PaymentStore } from './payment-store';

interface ProcessedEvent {
  _id: string;
  type: string;
  orderId: string | null;
  outcome: string;
  at: Date;
}

/** The part of a Checkout Session the webhook acts on. */
type SessionFields = Pick<
  Stripe.Checkout.Session,
  'id' | 'metadata' | 'client_reference_id' | 'payment_status' | 'amount_total' | 'currency'
>;

/**
 * Applies verified Stripe events to payments at most once. The payment's compare-and-set status
 * change is what makes a redelivery harmless; the processed-events record answers it early.
 */
export class StripeEventHandler {
  private constructor(
    private readonly processed: Collection<ProcessedEvent>,
    private readonly store: PaymentStore,
    private readonly logger: Logger,
  ) {}

  static async open(db: Db, store: PaymentStore, logger: Logger): Promise<StripeEventHandler> {
    return new StripeEventHandler(db.collection<ProcessedEvent>('stripe_events'), store, logger);
  }

  async handle(event: Stripe.Event): Promise<string> {
    if (await this.processed.findOne({ _id: event.id })) return 'duplicate';
    const session = event.data.object as Partial<SessionFields>;
    const orderId = session.metadata?.orderId ?? session.client_reference_id ?? null;
    if (orderId) setOrderId(orderId);
    const outcome = await this.apply(event.type, session, orderId, event.id);
    try {
      await this.processed.insertOne({ _id: event.id, type: event.type, orderId, outcome, at: new Date() });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
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
