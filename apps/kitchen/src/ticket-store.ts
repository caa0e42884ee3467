import { randomUUID } from 'node:crypto';
import type { Db, Filter } from 'mongodb';
import {
  EventTypes,
  type OrderPaidData,
  type Ticket,
  type TicketEventData,
  TicketStatus,
} from '@oms/contracts';
import { newEvent, OutboxStore, stageEvents, type OutboxFields, type RelayOutbox } from '@oms/messaging';
import { isDuplicateKeyError, type Versioned } from '@oms/persistence';
import { withCapturedTraceContext } from '@oms/telemetry';

/** A ticket's status as its document stores it (and the list filter names it): the lowercase name. */
export type TicketStatusName = 'queued' | 'preparing' | 'ready';

const STATUS_VALUES: Record<TicketStatusName, TicketStatus> = {
  queued: TicketStatus.TICKET_STATUS_QUEUED,
  preparing: TicketStatus.TICKET_STATUS_PREPARING,
  ready: TicketStatus.TICKET_STATUS_READY,
};

export const TICKET_STATUSES = Object.keys(STATUS_VALUES) as readonly TicketStatusName[];

export interface TicketDocument extends Versioned, OutboxFields {
  _id: string;
  orderId: string;
  status: TicketStatusName;
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
    // A name this build does not know (written by a newer one) is reported as unspecified.
    status: STATUS_VALUES[doc.status] ?? TicketStatus.TICKET_STATUS_UNSPECIFIED,
    items: doc.items,
    createdAt: iso(doc.createdAt),
    startedAt: iso(doc.startedAt),
    readyAt: iso(doc.readyAt),
  };
}

const ticketEvent = (type: string, doc: { _id: string; orderId: string }) =>
  stageEvents([newEvent<TicketEventData>(type, { orderId: doc.orderId, ticketId: doc._id })]);

/**
 * Kitchen tickets, one per paid order (a unique key). A cook claims a ticket with one conditional
 * update (still queued, or its lease lapsed) and only the lease holder can mark it ready.
 */
export class TicketStore extends OutboxStore<TicketDocument> {
  static async open(db: Db, relayOutbox: RelayOutbox<TicketDocument>): Promise<TicketStore> {
    const opened = await this.openCollection(db, 'tickets', relayOutbox, [
      // One ticket per order, however often the paid event is delivered.
      { keys: { orderId: 1 }, options: { unique: true } },
      // The line asks for one status at a time ('queued', 'preparing'): equalities the index serves.
      { keys: { status: 1, createdAt: 1 } },
    ]);
    return new TicketStore(opened);
  }

  /** Creates the order's ticket; false when it already has one. */
  async createForPaidOrder(order: OrderPaidData, traceContext: Record<string, string>): Promise<boolean> {
    try {
      await this.documents.insertOne({
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
    const docs = await this.documents.collection
      .find(query, { projection: { outbox: 0 } })
      .sort({ createdAt: -1 })
      .limit(500)
      .toArray();
    return docs.map(toTicket);
  }

  /** Takes the oldest queued ticket, and stages `kitchen.ticket_started` in the same write. */
  async claimQueued(cook: string, leaseMs: number): Promise<TicketDocument | null> {
    const candidate = await this.documents.collection
      .find({ status: 'queued' }, { projection: { orderId: 1, traceContext: 1 } })
      .sort({ createdAt: 1 })
      .limit(1)
      .next();
    if (!candidate) return null;
    const now = new Date();
    // Staged inside the paid order's trace, so "preparing" shows under the order in Jaeger.
    const staged = withCapturedTraceContext(candidate.traceContext, () =>
      ticketEvent(EventTypes.ticketStarted, candidate),
    );
    return this.claim(
      { _id: candidate._id, status: 'queued' },
      {
        ...staged.$set,
        status: 'preparing',
        startedAt: now,
        leaseOwner: cook,
        leaseUntil: new Date(now.getTime() + leaseMs),
      },
    );
  }

  /** Takes over a ticket whose cook stopped (crashed or shut down) mid-preparation. */
  async claimAbandoned(cook: string, leaseMs: number): Promise<TicketDocument | null> {
    const now = new Date();
    const abandoned = await this.documents.collection
      .find({ status: 'preparing', leaseUntil: { $lt: now } }, { projection: { _id: 1 } })
      .limit(1)
      .next();
    if (!abandoned) return null;
    return this.claim(
      { _id: abandoned._id, status: 'preparing', leaseUntil: { $lt: now } },
      { leaseOwner: cook, leaseUntil: new Date(now.getTime() + leaseMs) },
    );
  }

  /** Marks it ready (only the lease holder can) and stages `kitchen.ticket_ready`. */
  async markReady(ticket: TicketDocument, cook: string): Promise<boolean> {
    const ready = await this.documents.findOneAndUpdate(
      { _id: ticket._id, status: 'preparing', leaseOwner: cook },
      {
        $set: {
          ...ticketEvent(EventTypes.ticketReady, ticket).$set,
          status: 'ready',
          readyAt: new Date(),
          leaseOwner: null,
          leaseUntil: null,
        },
      },
    );
    if (ready) this.outbox.handOff(ready);
    return ready !== null;
  }

  /** On shutdown: hand unfinished tickets back at once instead of waiting for the lease to lapse. */
  async releaseLeases(cook: string): Promise<void> {
    for (const ticket of await this.documents.collection
      .find({ status: 'preparing', leaseOwner: cook }, { projection: { _id: 1 } })
      .toArray()) {
      await this.documents.updateOne(
        { _id: ticket._id, status: 'preparing', leaseOwner: cook },
        { $set: { leaseUntil: new Date(0) } },
      );
    }
  }

  private async claim(
    filter: Filter<TicketDocument>,
    set: Record<string, unknown>,
  ): Promise<TicketDocument | null> {
    const claimed = await this.documents.findOneAndUpdate(filter, { $set: set });
    if (claimed?.outboxPending) this.outbox.handOff(claimed);
    return claimed;
  }
}
