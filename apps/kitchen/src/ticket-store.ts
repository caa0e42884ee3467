import type { Collection, Db } from 'mongodb';
import type { Ticket } from '@oms/contracts';

interface TicketDocument extends Omit<Ticket, 'id'> {
  _id: string;
}

export const TICKET_STATUSES = ['queued', 'preparing', 'ready'] as const;

export class TicketStore {
  private constructor(private readonly tickets: Collection<TicketDocument>) {}

  static async open(db: Db): Promise<TicketStore> {
    const tickets = db.collection<TicketDocument>('tickets');
    // One ticket per order, however often the paid event is delivered.
    await tickets.createIndex({ orderId: 1 }, { unique: true });
    return new TicketStore(tickets);
  }

  async list(filter: { status?: string; orderId?: string }): Promise<Ticket[]> {
    const query: Record<string, string> = {};
    if (filter.status) query.status = filter.status;
    if (filter.orderId) query.orderId = filter.orderId;
    const docs = await this.tickets.find(query).sort({ createdAt: -1 }).limit(500).toArray();
    return docs.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
  }
}
