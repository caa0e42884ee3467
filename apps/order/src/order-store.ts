import type { Db, Filter } from 'mongodb';
import {
  EventTypes,
  OrderStatus,
  type Order,
  type OrderCreatedData,
  type OrderLine,
  type OrderLineData,
  type OrderPaidData,
} from '@oms/contracts';
import {
  newEvent,
  OutboxStore,
  stageEvents,
  stageEventsForInsert,
  type DomainEvent,
  type OutboxFields,
  type RelayOutbox,
} from '@oms/messaging';
import { DueWork, isDuplicateKeyError, ReadsById, type Versioned } from '@oms/persistence';
import { STATUS_NAMES, statusesBefore } from './order-rules';

type StatusName = string;

interface OrderDocument extends Versioned, OutboxFields {
  _id: string;
  customerId: string;
  status: StatusName;
  items: OrderLine[];
  totalCents: number;
  currency: string;
  paymentUrl: string | null;
  history: { status: StatusName; at: Date; reason?: string }[];
  createdAt: Date;
  updatedAt: Date;
  /** When the stock reservation lapses if the order is still unpaid. */
  expiresAt: Date;
  /** Set while a cancelled or failed order's stock still has to be released (the sweeper retries it). */
  releasePending?: true;
  /**
   * Set when a payment succeeded, while the order's stock is being committed: from then on cancel
   * and expiry leave the order alone, and only the payment's outcome (paid, or failed because the
   * reservation lapsed first) ends it.
   */
  paying?: true;
}

const UNPAID: StatusName[] = ['pending', 'awaiting_payment'];

const STATUS_BY_NAME = new Map(
  Object.entries(STATUS_NAMES).map(([value, name]) => [name, Number(value) as OrderStatus]),
);
export const statusName = (status: OrderStatus): StatusName => STATUS_NAMES[status] ?? 'unspecified';
const statusValue = (name: StatusName): OrderStatus =>
  STATUS_BY_NAME.get(name) ?? OrderStatus.ORDER_STATUS_UNSPECIFIED;

function toOrder(doc: OrderDocument): Order {
  return {
    id: doc._id,
    customerId: doc.customerId,
    status: statusValue(doc.status),
    items: doc.items,
    totalCents: doc.totalCents,
    currency: doc.currency,
    paymentUrl: doc.paymentUrl ?? undefined,
    history: doc.history.map((step) => ({ status: statusValue(step.status), at: step.at.toISOString() })),
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

export interface NewOrder {
  id: string;
  customerId: string;
  items: OrderLine[];
  totalCents: number;
  currency: string;
  expiresAt: Date;
}

/** An order's lines as events carry them. */
const eventLines = (items: OrderLine[]): OrderLineData[] =>
  items.map(({ itemId, name, quantity, unitPriceCents }) => ({ itemId, name, quantity, unitPriceCents }));

/** Events an order's status change causes, staged in the same write. */
function eventsFor(
  next: OrderStatus,
  doc: { _id: string; customerId: string; items: OrderLine[] },
): DomainEvent[] {
  if (next !== OrderStatus.ORDER_STATUS_PAID) return [];
  const data: OrderPaidData = {
    orderId: doc._id,
    customerId: doc.customerId,
    items: eventLines(doc.items),
  };
  return [newEvent(EventTypes.orderPaid, data)];
}

/** Opaque page cursor: the (createdAt, id) of the last order of a page. */
function encodeCursor(doc: OrderDocument): string {
  return Buffer.from(JSON.stringify([doc.createdAt.getTime(), doc._id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof time === 'number' && typeof id === 'string') return { createdAt: new Date(time), id };
  } catch {
    // fall through: an unreadable cursor is the caller's error
  }
  return undefined;
}

export class OrderStore extends OutboxStore<OrderDocument> {
  static async open(db: Db, relayOutbox: RelayOutbox<OrderDocument>): Promise<OrderStore> {
    const opened = await this.openCollection(db, 'orders', relayOutbox, [
      { keys: { customerId: 1, createdAt: -1 } },
      // The sweeper asks for one status at a time, and for releasePending: equalities an index serves.
      { keys: { status: 1, expiresAt: 1 } },
      { keys: { releasePending: 1 } },
    ]);
    return new OrderStore(opened);
  }

  /** When unpaid orders lapse: known from this process's inserts, and from the database now and then. */
  private readonly lapses = new DueWork(this.documents.collection, {
    statuses: UNPAID,
    dueField: 'expiresAt',
    projection: { outbox: 0 },
  });

  /** Inserts a pending order with its order.created event; a repeated id returns the existing one. */
  async insertPending(order: NewOrder): Promise<Order> {
    const now = new Date();
    const doc: Omit<OrderDocument, 'v'> = {
      _id: order.id,
      customerId: order.customerId,
      status: 'pending',
      items: order.items,
      totalCents: order.totalCents,
      currency: order.currency,
      paymentUrl: null,
      history: [{ status: 'pending', at: now }],
      createdAt: now,
      updatedAt: now,
      expiresAt: order.expiresAt,
    };
    const created: OrderCreatedData = {
      orderId: order.id,
      customerId: order.customerId,
      items: eventLines(order.items),
      totalCents: order.totalCents,
      currency: order.currency,
    };
    const staged = { ...doc, ...stageEventsForInsert([newEvent(EventTypes.orderCreated, created)]) };
    try {
      await this.documents.insertOne(staged);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.documents.collection.findOne({ _id: order.id });
      if (!existing) throw error;
      return toOrder(existing);
    }
    this.lapses.noted(order.id, order.expiresAt);
    this.outbox.handOff({ ...staged, v: 0 });
    return toOrder({ ...doc, v: 0 });
  }

  /** Reads by id, those made together in one find (get-order under load). */
  private readonly byId = new ReadsById(this.documents.collection, { projection: { outbox: 0 } });

  async get(orderId: string): Promise<Order | undefined> {
    const doc = await this.byId.get(orderId);
    return doc ? toOrder(doc) : undefined;
  }

  async listByCustomer(
    customerId: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ orders: Order[]; nextCursor?: string } | 'bad_cursor'> {
    const filter: Record<string, unknown> = { customerId };
    if (cursor) {
      const after = decodeCursor(cursor);
      if (!after) return 'bad_cursor';
      filter.$or = [
        { createdAt: { $lt: after.createdAt } },
        { createdAt: after.createdAt, _id: { $lt: after.id } },
      ];
    }
    const docs = await this.documents.collection
      .find(filter, { projection: { outbox: 0 } })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit + 1)
      .toArray();
    const page = docs.slice(0, limit);
    const last = page[page.length - 1];
    return {
      orders: page.map(toOrder),
      nextCursor: docs.length > limit && last ? encodeCursor(last) : undefined,
    };
  }

  /**
   * Claims an unpaid order for a payment that succeeded, while its reservation still holds. A
   * claim already made (a redelivered event, or one a crash left) is claimed again whatever the
   * time, so that its payment can be finished. False when the order is past payment or has ended.
   */
  async claimForPayment(orderId: string, now = new Date()): Promise<boolean> {
    const { matchedCount } = await this.documents.updateOne(
      {
        _id: orderId,
        status: { $in: UNPAID },
        $or: [{ paying: true }, { expiresAt: { $gt: now } }],
      },
      { $set: { paying: true, updatedAt: now } },
    );
    return matchedCount === 1;
  }

  /**
   * Moves an order to `next` if the state machine allows it from where the order is now: the
   * allowed "from" statuses are the write's precondition, so a late or repeated event matches
   * nothing and never moves an order backwards. Paid needs the order claimed for payment; cancel
   * and failure need it unclaimed, unless `settlingPayment` (the claim's own payment failed).
   * Returns the order after it, or undefined.
   */
  async transition(
    orderId: string,
    next: OrderStatus,
    changes: { paymentUrl?: string; reason?: string } = {},
    { settlingPayment = false } = {},
  ): Promise<Order | undefined> {
    const now = new Date();
    const set: Record<string, unknown> = { status: statusName(next), updatedAt: now };
    if (changes.paymentUrl) set.paymentUrl = changes.paymentUrl;
    const ends = next === OrderStatus.ORDER_STATUS_CANCELLED || next === OrderStatus.ORDER_STATUS_FAILED;
    if (ends) set.releasePending = true;
    const paying = next === OrderStatus.ORDER_STATUS_PAID || settlingPayment;
    const paymentClaim: Filter<OrderDocument> = paying
      ? { paying: true }
      : ends
        ? { paying: { $exists: false } }
        : {};
    // order.paid carries the lines, which never change after creation: read them first.
    const lines =
      next === OrderStatus.ORDER_STATUS_PAID
        ? await this.documents.collection.findOne(
            { _id: orderId },
            { projection: { customerId: 1, items: 1 } },
          )
        : null;
    const events = lines ? eventsFor(next, lines) : [];
    const step = changes.reason
      ? { status: statusName(next), at: now, reason: changes.reason }
      : { status: statusName(next), at: now };
    const doc = await this.documents.findOneAndUpdate(
      { _id: orderId, status: { $in: statusesBefore(next).map(statusName) }, ...paymentClaim },
      {
        $set: { ...set, ...stageEvents(events).$set },
        $push: { history: step },
        ...(paying ? { $unset: { paying: '' as const } } : {}),
      },
    );
    if (!doc) return undefined;
    if (events.length > 0) this.outbox.handOff(doc);
    return toOrder(doc);
  }

  async markStockReleased(orderId: string): Promise<void> {
    await this.documents.updateOne(
      { _id: orderId, releasePending: true },
      { $unset: { releasePending: '' } },
    );
  }

  /**
   * Unpaid orders whose reservation lapsed, and when the next one lapses: the sweeper sleeps
   * until then, and the database is asked only when an order may have lapsed (see DueWork).
   */
  async findExpired(now: Date, limit: number): Promise<{ expired: Order[]; nextExpiry?: Date }> {
    const { due, nextDue } = await this.lapses.find(now, limit);
    return { expired: due.map(toOrder), nextExpiry: nextDue };
  }

  /** Cancelled or failed orders whose stock release has not been confirmed yet. */
  async findUnreleased(limit: number): Promise<Order[]> {
    const docs = await this.documents.collection
      .find({ releasePending: true }, { limit, projection: { outbox: 0 } })
      .toArray();
    return docs.map(toOrder);
  }
}
