import type { Collection, Db } from 'mongodb';
import {
  EventTypes,
  OrderStatus,
  type Order,
  type OrderCreatedData,
  type OrderLine,
  type OrderLineData,
  type OrderPaidData,
} from '@oms/contracts';
import { newEvent, stageEvents, stageEventsForInsert, type DomainEvent } from '@oms/messaging';
import { DocumentLocks, isDuplicateKeyError } from '@oms/persistence';
import { STATUS_NAMES } from './order-rules';

type StatusName = string;

interface OrderDocument {
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
  /** False while a cancelled/failed order's stock still has to be released (retried by the sweeper). */
  stockReleased: boolean;
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
    readonly orders: Collection<OrderDocument>,
    /** Serializes every read-modify-write of one order (see DocumentLocks for why). */
    readonly locks: DocumentLocks,
  ) {}

  static async open(db: Db): Promise<OrderStore> {
    const orders = db.collection<OrderDocument>('orders');
    // One index per call: FerretDB v1 drops the connection on a repeated multi-index createIndexes.
    await orders.createIndex({ customerId: 1, createdAt: -1 });
    await orders.createIndex({ status: 1, expiresAt: 1 });
    return new OrderStore(orders, DocumentLocks.open(db));
  }

  /** Inserts a pending order; a concurrent insert of the same id returns the existing one. */
  async insertPending(order: NewOrder): Promise<Order> {
    const now = new Date();
    const doc: OrderDocument = {
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
      stockReleased: false,
    };
    const created: OrderCreatedData = {
      orderId: order.id,
      customerId: order.customerId,
      items: eventLines(order.items),
      totalCents: order.totalCents,
      currency: order.currency,
    };
    try {
      // The order and its order.created event are one document: the relay publishes it later.
      await this.orders.insertOne({
        ...doc,
        ...stageEventsForInsert([newEvent(EventTypes.orderCreated, created)]),
      });
      return toOrder(doc);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.orders.findOne({ _id: order.id });
      if (!existing) throw error;
      return toOrder(existing);
    }
  }

  async get(orderId: string): Promise<Order | undefined> {
    const doc = await this.orders.findOne({ _id: orderId });
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
    const docs = await this.orders
      .find(filter)
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
   * Moves an order from `expected` to `next` only if it is still in `expected` (compare-and-set),
   * so concurrent writers never overwrite each other's step. Returns undefined when it lost.
   */
  async transition(
    orderId: string,
    expected: OrderStatus,
    next: OrderStatus,
    changes: { paymentUrl?: string; reason?: string } = {},
  ): Promise<Order | undefined> {
    const now = new Date();
    const set: Record<string, unknown> = { status: statusName(next), updatedAt: now };
    if (changes.paymentUrl) set.paymentUrl = changes.paymentUrl;
    if (next === OrderStatus.ORDER_STATUS_CANCELLED || next === OrderStatus.ORDER_STATUS_FAILED)
      set.stockReleased = false;
    const step = changes.reason
      ? { status: statusName(next), at: now, reason: changes.reason }
      : { status: statusName(next), at: now };
    const doc = await this.locks.updateIf(this.orders, orderId, (current) => {
      if (current.status !== statusName(expected)) return undefined;
      const events = eventsFor(next, current);
      return { $set: { ...set, ...stageEvents(events).$set }, $push: { history: step } };
    });
    return doc ? toOrder(doc) : undefined;
  }

  async markStockReleased(orderId: string): Promise<void> {
    await this.locks.withLock(orderId, () =>
      this.orders.updateOne({ _id: orderId }, { $set: { stockReleased: true } }),
    );
  }

  /** Unpaid orders whose reservation lapsed. */
  async findExpired(now: Date, limit: number): Promise<Order[]> {
    const docs = await this.orders
      .find({ status: { $in: ['pending', 'awaiting_payment'] }, expiresAt: { $lt: now } })
      .limit(limit)
      .toArray();
    return docs.map(toOrder);
  }

  /** Cancelled or failed orders whose stock release has not been confirmed yet. */
  async findUnreleased(limit: number): Promise<Order[]> {
    const docs = await this.orders
      .find({ status: { $in: ['cancelled', 'failed'] }, stockReleased: false })
      .limit(limit)
      .toArray();
    return docs.map(toOrder);
  }
}
