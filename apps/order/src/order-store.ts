import type { Db } from 'mongodb';
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
  stageEvents,
  stageEventsForInsert,
  type DomainEvent,
  type OutboxFields,
  type OutboxHandOff,
  type RelayOutbox,
} from '@oms/messaging';
import { findDueByStatus, isDuplicateKeyError, VersionedCollection, type Versioned } from '@oms/persistence';
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
}

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

export class OrderStore {
  private constructor(
    private readonly orders: VersionedCollection<OrderDocument>,
    private readonly outbox: OutboxHandOff,
  ) {}

  static async open(db: Db, relayOutbox: RelayOutbox<OrderDocument>): Promise<OrderStore> {
    const orders = db.collection<OrderDocument>('orders');
    // One index per call: FerretDB v1 drops the connection on a repeated multi-index createIndexes.
    await orders.createIndex({ customerId: 1, createdAt: -1 });
    // The sweeper asks for one status at a time, and for releasePending: equalities an index serves.
    await orders.createIndex({ status: 1, expiresAt: 1 });
    await orders.createIndex({ releasePending: 1 });
    return new OrderStore(new VersionedCollection(orders), relayOutbox(orders));
  }

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
      await this.orders.insertOne(staged);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.orders.collection.findOne({ _id: order.id });
      if (!existing) throw error;
      return toOrder(existing);
    }
    this.outbox.handOff({ ...staged, v: 0 });
    return toOrder({ ...doc, v: 0 });
  }

  async get(orderId: string): Promise<Order | undefined> {
    const doc = await this.orders.collection.findOne({ _id: orderId }, { projection: { outbox: 0 } });
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
    const docs = await this.orders.collection
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
   * Moves an order to `next` if the state machine allows it from where the order is now: the
   * allowed "from" statuses are the write's precondition, so a late or repeated event matches
   * nothing and never moves an order backwards. Returns the order after it, or undefined.
   */
  async transition(
    orderId: string,
    next: OrderStatus,
    changes: { paymentUrl?: string; reason?: string } = {},
  ): Promise<Order | undefined> {
    const now = new Date();
    const set: Record<string, unknown> = { status: statusName(next), updatedAt: now };
    if (changes.paymentUrl) set.paymentUrl = changes.paymentUrl;
    if (next === OrderStatus.ORDER_STATUS_CANCELLED || next === OrderStatus.ORDER_STATUS_FAILED)
      set.releasePending = true;
    // order.paid carries the lines, which never change after creation: read them first.
    const lines =
      next === OrderStatus.ORDER_STATUS_PAID
        ? await this.orders.collection.findOne({ _id: orderId }, { projection: { customerId: 1, items: 1 } })
        : null;
    const events = lines ? eventsFor(next, lines) : [];
    const step = changes.reason
      ? { status: statusName(next), at: now, reason: changes.reason }
      : { status: statusName(next), at: now };
    // Paid only while the reservation holds: a payment after it lapsed must not sell stock that
    // went back (the order then fails, and the payment is a refund case).
    const stillReserved = next === OrderStatus.ORDER_STATUS_PAID ? { expiresAt: { $gt: now } } : {};
    const doc = await this.orders.findOneAndUpdate(
      { _id: orderId, status: { $in: statusesBefore(next).map(statusName) }, ...stillReserved },
      { $set: { ...set, ...stageEvents(events).$set }, $push: { history: step } },
    );
    if (!doc) return undefined;
    if (events.length > 0) this.outbox.handOff(doc);
    return toOrder(doc);
  }

  async markStockReleased(orderId: string): Promise<void> {
    await this.orders.updateOne({ _id: orderId, releasePending: true }, { $unset: { releasePending: '' } });
  }

  /**
   * Unpaid orders whose reservation lapsed, and when the next one lapses: the sweeper sleeps
   * until then rather than asking every second. One query per status (each an index lookup).
   */
  async findExpired(now: Date, limit: number): Promise<{ expired: Order[]; nextExpiry?: Date }> {
    const { due, nextDue } = await findDueByStatus(this.orders.collection, {
      statuses: ['pending', 'awaiting_payment'],
      dueField: 'expiresAt',
      now,
      limit,
      projection: { outbox: 0 },
    });
    return { expired: due.map(toOrder), nextExpiry: nextDue };
  }

  /** Cancelled or failed orders whose stock release has not been confirmed yet. */
  async findUnreleased(limit: number): Promise<Order[]> {
    const docs = await this.orders.collection
      .find({ releasePending: true }, { limit, projection: { outbox: 0 } })
      .toArray();
    return docs.map(toOrder);
  }
}
