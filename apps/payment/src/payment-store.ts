import type { Db } from 'mongodb';
import {
  EventTypes,
  type OrderCreatedData,
  type Payment,
  type PaymentFailedData,
  type PaymentSessionCreatedData,
  PaymentStatus,
  type PaymentSucceededData,
} from '@oms/contracts';
import {
  newEvent,
  OutboxStore,
  stageEvents,
  type DomainEvent,
  type OutboxFields,
  type RelayOutbox,
} from '@oms/messaging';
import { isDuplicateKeyError, type Versioned } from '@oms/persistence';

/** A payment's status as its document stores it: the lowercase name, as orders store theirs. */
export type PaymentStatusName = 'session_pending' | 'awaiting_payment' | 'paid' | 'failed';

const STATUS_VALUES: Record<PaymentStatusName, PaymentStatus> = {
  session_pending: PaymentStatus.PAYMENT_STATUS_SESSION_PENDING,
  awaiting_payment: PaymentStatus.PAYMENT_STATUS_AWAITING_PAYMENT,
  paid: PaymentStatus.PAYMENT_STATUS_PAID,
  failed: PaymentStatus.PAYMENT_STATUS_FAILED,
};

export interface PaymentDocument extends Versioned, OutboxFields {
  _id: string;
  customerId: string;
  amountCents: number;
  currency: string;
  items: OrderCreatedData['items'];
  status: PaymentStatusName;
  checkoutSessionId: string | null;
  paymentUrl: string | null;
  /** Session creation attempts while Stripe was unreachable, and when to try again. */
  attempts: number;
  nextAttemptAt: Date;
  /** Trace context of the order's creation, so a late session still joins the order's trace. */
  traceContext?: Record<string, string>;
  mismatches: { eventId: string; amountCents: number | null; currency: string | null; at: Date }[];
  createdAt: Date;
  updatedAt: Date;
}

const toPayment = (doc: PaymentDocument): Payment => ({
  orderId: doc._id,
  // A name this build does not know (written by a newer one) is reported as unspecified.
  status: STATUS_VALUES[doc.status] ?? PaymentStatus.PAYMENT_STATUS_UNSPECIFIED,
  checkoutSessionId: doc.checkoutSessionId ?? '',
  paymentUrl: doc.paymentUrl ?? '',
  amountCents: doc.amountCents,
  currency: doc.currency,
});

/** A payment as first recorded for an order.created event, before any write. */
export function newPayment(
  order: OrderCreatedData,
  traceContext: Record<string, string>,
  now = new Date(),
): Omit<PaymentDocument, 'v'> {
  return {
    _id: order.orderId,
    customerId: order.customerId,
    amountCents: order.totalCents,
    currency: order.currency,
    items: order.items,
    status: 'session_pending',
    checkoutSessionId: null,
    paymentUrl: null,
    attempts: 0,
    nextAttemptAt: now,
    traceContext,
    mismatches: [],
    createdAt: now,
    updatedAt: now,
  };
}

const sessionCreatedEvent = (orderId: string, session: { id: string; url: string }) =>
  newEvent(EventTypes.paymentSessionCreated, {
    orderId,
    checkoutSessionId: session.id,
    paymentUrl: session.url,
  } satisfies PaymentSessionCreatedData);

/**
 * Payments, one per order. Every state change is one conditional update whose filter holds the
 * statuses it may leave, and stages its event in the same write. The first record is an insert
 * whose event its caller publishes (see recordWithSession).
 */
export class PaymentStore extends OutboxStore<PaymentDocument> {
  static async open(db: Db, relayOutbox: RelayOutbox<PaymentDocument>): Promise<PaymentStore> {
    const opened = await this.openCollection(db, 'payments', relayOutbox, [
      // The retry loop asks for status 'session_pending': an equality the index serves.
      { keys: { status: 1, nextAttemptAt: 1 } },
    ]);
    return new PaymentStore(opened);
  }

  async get(orderId: string): Promise<Payment | undefined> {
    const doc = await this.document(orderId);
    return doc ? toPayment(doc) : undefined;
  }

  async document(orderId: string): Promise<PaymentDocument | null> {
    return this.documents.collection.findOne({ _id: orderId }, { projection: { outbox: 0 } });
  }

  /** Records a payment whose session could not be created yet; an existing payment is left as it is. */
  async recordPending(payment: Omit<PaymentDocument, 'v'>): Promise<void> {
    try {
      await this.documents.insertOne(payment);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /**
   * Records a payment together with its Checkout Session: one insert, with no event staged. It
   * returns the payment.session_created event, which the caller publishes before it acks the
   * order.created that caused it: a crash before then has order.created delivered again, and this
   * finds the payment recorded and returns the event again. Undefined when there is nothing to
   * announce (the payment has moved past awaiting payment). A payment recorded pending earlier
   * (Stripe was away then) moves on from session_pending, its event staged in the outbox.
   */
  async recordWithSession(
    payment: Omit<PaymentDocument, 'v'>,
    session: { id: string; url: string },
  ): Promise<DomainEvent | undefined> {
    try {
      await this.documents.insertOne({
        ...payment,
        status: 'awaiting_payment',
        checkoutSessionId: session.id,
        paymentUrl: session.url,
      });
      return sessionCreatedEvent(payment._id, session);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const recorded = await this.document(payment._id);
    if (recorded?.status === 'session_pending') {
      await this.sessionCreated(payment._id, session);
      return undefined;
    }
    if (recorded?.status !== 'awaiting_payment' || !recorded.checkoutSessionId || !recorded.paymentUrl)
      return undefined;
    return sessionCreatedEvent(payment._id, { id: recorded.checkoutSessionId, url: recorded.paymentUrl });
  }

  async sessionCreated(orderId: string, session: { id: string; url: string }): Promise<boolean> {
    return this.moveFrom(orderId, ['session_pending'], {
      ...stageEvents([sessionCreatedEvent(orderId, session)]).$set,
      status: 'awaiting_payment',
      checkoutSessionId: session.id,
      paymentUrl: session.url,
    });
  }

  async sessionAttemptFailed(orderId: string, attempts: number, nextAttemptAt: Date): Promise<void> {
    await this.moveFrom(orderId, ['session_pending'], { attempts, nextAttemptAt });
  }

  /** Orders still waiting for a Checkout Session whose retry time has come. */
  async dueForSession(now: Date, limit: number): Promise<PaymentDocument[]> {
    return this.documents.collection
      .find({ status: 'session_pending', nextAttemptAt: { $lte: now } }, { projection: { outbox: 0 } })
      .limit(limit)
      .toArray();
  }

  /** When the earliest pending session attempt is due (only payments that met a Stripe outage). */
  async nextSessionAttemptAt(): Promise<Date | undefined> {
    const [next] = await this.documents.collection
      .find({ status: 'session_pending' }, { projection: { nextAttemptAt: 1 } })
      .sort({ nextAttemptAt: 1 })
      .limit(1)
      .toArray();
    return next?.nextAttemptAt ?? undefined;
  }

  /** Paid, unless it is already paid or failed (a redelivered webhook): false then. */
  async markPaid(orderId: string, data: PaymentSucceededData): Promise<boolean> {
    return this.moveFrom(orderId, ['session_pending', 'awaiting_payment'], {
      ...stageEvents([newEvent(EventTypes.paymentSucceeded, data)]).$set,
      status: 'paid',
    });
  }

  async markFailed(orderId: string, reason: PaymentFailedData['reason']): Promise<boolean> {
    const failed: PaymentFailedData = { orderId, reason };
    return this.moveFrom(orderId, ['session_pending', 'awaiting_payment'], {
      ...stageEvents([newEvent(EventTypes.paymentFailed, failed)]).$set,
      status: 'failed',
    });
  }

  /** A paid session whose amount or currency is not the order's: kept for humans, never paid. */
  async recordMismatch(
    orderId: string,
    eventId: string,
    amountCents: number | null,
    currency: string | null,
  ): Promise<void> {
    await this.documents.updateOne(
      { _id: orderId, 'mismatches.eventId': { $ne: eventId } },
      {
        $push: { mismatches: { eventId, amountCents, currency, at: new Date() } },
        $set: { updatedAt: new Date() },
      },
    );
  }

  /** Applies `changes` only while the payment is in one of `from`; true when it did. */
  private async moveFrom(
    orderId: string,
    from: PaymentStatusName[],
    changes: Record<string, unknown>,
  ): Promise<boolean> {
    const moved = await this.documents.findOneAndUpdate(
      { _id: orderId, status: { $in: from } },
      { $set: { ...changes, updatedAt: new Date() } },
    );
    if (moved?.outboxPending) this.outbox.handOff(moved);
    return moved !== null;
  }
}
