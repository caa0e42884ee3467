import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { EventTypes, type OrderPaidData, type Ticket, type TicketEventData } from '@oms/contracts';
import { newEvent, stageEvents, withCapturedTraceContext } from '@oms/messaging';
import { DocumentLocks, isDuplicateKeyError } from '@oms/persistence';

export const TICKET_STATUSES = ['queued', 'preparing', 'ready'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export interface TicketDocument {
  _id: string;
  orderId: string;
  status: TicketStatus;
  items: { itemId: string; name: string; quantity: number }[];
  createdAt: Date;
  startedAt: Date | null;
  readyAt: Date | null;
  /** The cook (instance) preparing it, until when; a lapsed lease is resumed by any instance. */
  leaseOwner: string | null;
  leaseUntil: Date | null;
  /** The paid order's trace, so preparing and ready join it. */
  traceContext?: Record<string, string>;
}

const iso = (date: Date | null) => (date ? date.toISOString() : '');

function toTicket(doc: TicketDocument): Ticket {
  return {
    id: doc._id,
    orderId: doc.orderId,
    status: doc.status,
    items: doc.items,
    createdAt: iso(doc.createdAt),
    startedAt: iso(doc.startedAt),
    readyAt: iso(doc.readyAt),
  };
}

const ticketEvent = (type: string, doc: Pick<TicketDocument, '_id' | 'orderId'>) =>
  stageEvents([newEvent<TicketEventData>(type, { orderId: doc.orderId, ticketId: doc._id })]);

export class TicketStore {
  private constructor(
    readonly tickets: Collection<TicketDocument>,
    /** Serializes read-modify-writes of one ticket (FerretDB's conditional updates are not atomic). */
    readonly locks: DocumentLocks,
  ) {}

  /** Runs `change` on the ticket under its lock if `applies` still holds; returns the new ticket. */
  private async change(
    id: string,
    applies: (ticket: TicketDocument) => boolean,
    set: (ticket: TicketDocument) => Record<string, unknown>,
  ): Promise<TicketDocument | null> {
    return this.locks.updateIf(this.tickets, id, (current) =>
      applies(current) ? { $set: set(current) } : undefined,
    );
  }

  static async open(db: Db): Promise<TicketStore> {
    const tickets = db.collection<TicketDocument>('tickets');
    // One ticket per order, however often the paid event is delivered.
    await tickets.createIndex({ orderId: 1 }, { unique: true });
    await tickets.createIndex({ status: 1, createdAt: 1 });
    return new TicketStore(tickets, DocumentLocks.open(db));
  }

  /** Creates the order's ticket; false when it already has one. */
  async createForPaidOrder(order: OrderPaidData, traceContext: Record<string, string>): Promise<boolean> {
    try {
      await this.tickets.insertOne({
        _id: `tkt_${randomUUID()}`,
        orderId: order.orderId,
        status: 'queued',
        items: order.items.map(({ itemId, name, quantity }) => ({ itemId, name, quantity })),
        createdAt: new Date(),
        startedAt: null,
        readyAt: null,
        leaseOwner: null,
        leaseUntil: null,
        traceContext,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async list(filter: { status?: string; orderId?: string }): Promise<Ticket[]> {
    const query: Record<string, string> = {};
    if (filter.status) query.status = filter.status;
    if (filter.orderId) query.orderId = filter.orderId;
    const docs = await this.tickets.find(query).sort({ createdAt: -1 }).limit(500).toArray();
    return docs.map(toTicket);
  }

  /** Takes the oldest queued ticket, and stages `kitchen.ticket_started` in the same write. */
  async claimQueued(cook: string, leaseMs: number): Promise<TicketDocument | null> {
    const candidate = await this.tickets.find({ status: 'queued' }).sort({ createdAt: 1 }).limit(1).next();
    if (!candidate) return null;
    return this.change(
      candidate._id,
      (ticket) => ticket.status === 'queued',
      (ticket) => {
        const now = new Date();
        // Staged inside the paid order's trace, so "preparing" shows under the order in Jaeger.
        const staged = withCapturedTraceContext(ticket.traceContext, () =>
          ticketEvent(EventTypes.ticketStarted, ticket),
        );
        return {
          ...staged.$set,
          status: 'preparing',
          startedAt: now,
          leaseOwner: cook,
          leaseUntil: new Date(now.getTime() + leaseMs),
        };
      },
    );
  }

  /** Takes over a ticket whose cook stopped (crashed or shut down) mid-preparation. */
  async claimAbandoned(cook: string, leaseMs: number): Promise<TicketDocument | null> {
    const abandoned = await this.tickets
      .find({ status: 'preparing', leaseUntil: { $lt: new Date() } })
      .limit(1)
      .next();
    if (!abandoned) return null;
    return this.change(
      abandoned._id,
      (ticket) => ticket.status === 'preparing' && (ticket.leaseUntil?.getTime() ?? 0) < Date.now(),
      () => ({ leaseOwner: cook, leaseUntil: new Date(Date.now() + leaseMs) }),
    );
  }

  /** Marks it ready (only the lease holder can) and stages `kitchen.ticket_ready`. */
  async markReady(ticket: TicketDocument, cook: string): Promise<boolean> {
    const ready = await this.change(
      ticket._id,
      (current) => current.status === 'preparing' && current.leaseOwner === cook,
      (current) => ({
        ...ticketEvent(EventTypes.ticketReady, current).$set,
        status: 'ready',
        readyAt: new Date(),
        leaseOwner: null,
        leaseUntil: null,
      }),
    );
    return ready !== null;
  }

  /** On shutdown: hand unfinished tickets back at once instead of waiting for the lease to lapse. */
  async releaseLeases(cook: string): Promise<void> {
    for (const ticket of await this.tickets.find({ status: 'preparing', leaseOwner: cook }).toArray()) {
      await this.change(
        ticket._id,
        (current) => current.leaseOwner === cook,
        () => ({ leaseUntil: new Date(0) }),
      );
    }
  }
}
