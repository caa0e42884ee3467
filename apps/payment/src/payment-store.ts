import type { Collection, Db } from 'mongodb';
import {
  EventTypes,
  type OrderCreatedData,
  type Payment,
  type PaymentFailedData,
  type PaymentSessionCreatedData,
  type PaymentSucceededData,
} from '@oms/contracts';
import { newEvent, stageEvents } from '@oms/messaging';
import { DocumentLocks } from '@oms/persistence';

export type PaymentStatus = 'session_pending' | 'awaiting_payment' | 'paid' | 'failed';

export interface PaymentDocument {
  _id: string;
  customerId: string;
  amountCents: number;
  currency: string;
  items: OrderCreatedData['items'];
  status: PaymentStatus;
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
  status: doc.status,
  checkoutSessionId: doc.checkoutSessionId ?? '',
  paymentUrl: doc.paymentUrl ?? '',
  amountCents: doc.amountCents,
  currency: doc.currency,
});

/** Payments, one per order; every state change stages its event in the same single-document write. */
export class PaymentStore {
  private constructor(
    readonly payments: Collection<PaymentDocument>,
    /** Serializes read-modify-writes of one payment (FerretDB's conditional updates are not atomic). */
    readonly locks: DocumentLocks,
  ) {}

  static async open(db: Db): Promise<PaymentStore> {
    const payments = db.collection<PaymentDocument>('payments');
    await payments.createIndex({ status: 1, nextAttemptAt: 1 });
    return new PaymentStore(payments, DocumentLocks.open(db));
  }

  /** Applies `changes` only while the payment is in one of `from`; true when it did. */
  private async moveFrom(
    orderId: string,
    from: PaymentStatus[],
    changes: Record<string, unknown>,
  ): Promise<boolean> {
    const moved = await this.locks.updateIf(this.payments, orderId, (current) =>
      from.includes(current.status) ? { $set: { ...changes, updatedAt: new Date() } } : undefined,
    );
    return moved !== null;
  }

  async get(orderId: string): Promise<Payment | undefined> {
    const doc = await this.payments.findOne({ _id: orderId });
    return doc ? toPayment(doc) : undefined;
  }

  async document(orderId: string): Promise<PaymentDocument | null> {
    return this.payments.findOne({ _id: orderId });
  }

  /** Idempotent: a redelivered order.created finds the payment it already recorded. */
  async recordOrder(order: OrderCreatedData, traceContext: Record<string, string>): Promise<PaymentDocument> {
    const now = new Date();
    const doc = await this.payments.findOneAndUpdate(
      { _id: order.orderId },
      {
        $setOnInsert: {
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
        },
      },
      { upsert: true, returnDocument: 'after' },
    );
    return doc!;
  }

  async sessionCreated(orderId: string, session: { id: string; url: string }): Promise<boolean> {
    const data: PaymentSessionCreatedData = {
      orderId,
      checkoutSessionId: session.id,
      paymentUrl: session.url,
    };
    const staged = stageEvents([newEvent(EventTypes.paymentSessionCreated, data)]);
    return this.moveFrom(orderId, ['session_pending'], {
      ...staged.$set,
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
    return this.payments
      .find({ status: 'session_pending', nextAttemptAt: { $lte: now } })
      .limit(limit)
      .toArray();
  }

  /** Compare-and-set to paid; false when it is already paid or failed (a redelivered webhook). */
  async markPaid(orderId: string, data: PaymentSucceededData): Promise<boolean> {
    const staged = stageEvents([newEvent(EventTypes.paymentSucceeded, data)]);
    return this.moveFrom(orderId, ['session_pending', 'awaiting_payment'], {
      ...staged.$set,
      status: 'paid',
    });
  }

  async markFailed(orderId: string, reason: PaymentFailedData['reason']): Promise<boolean> {
    const staged = stageEvents([
      newEvent(EventTypes.paymentFailed, { orderId, reason } satisfies PaymentFailedData),
    ]);
    return this.moveFrom(orderId, ['session_pending', 'awaiting_payment'], {
      ...staged.$set,
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
    await this.locks.updateIf(this.payments, orderId, (current) =>
      (current.mismatches ?? []).some((m) => m.eventId === eventId)
        ? undefined
        : {
            $push: { mismatches: { eventId, amountCents, currency, at: new Date() } },
            $set: { updatedAt: new Date() },
          },
    );
  }
}
