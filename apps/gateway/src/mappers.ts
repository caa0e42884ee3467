/** Proto messages ↔ the public JSON (camelCase, lowercase statuses, null for absent values). */
import {
  OrderStatus,
  TicketStatus,
  type DeadLetterQueue,
  type MenuItem,
  type Order,
  type Ticket,
} from '@oms/contracts';
import type { MenuItemJson, OrderJson, TicketJson } from './schemas';

/**
 * A proto enum value's public name: `ORDER_STATUS_AWAITING_PAYMENT` → `awaiting_payment`;
 * `unknown` for the unspecified value or one this build does not know.
 */
function publicName(names: Record<number, string>, prefix: string, value: number): string {
  const name = names[value];
  if (name === undefined || !name.startsWith(prefix) || name === `${prefix}UNSPECIFIED`) return 'unknown';
  return name.slice(prefix.length).toLowerCase();
}

export const orderStatusName = (value: OrderStatus): string =>
  publicName(OrderStatus, 'ORDER_STATUS_', value);

export const ticketStatusName = (value: TicketStatus): string =>
  publicName(TicketStatus, 'TICKET_STATUS_', value);

const orNull = (value: string | undefined): string | null =>
  value === undefined || value === '' ? null : value;

export function toOrderJson(order: Order): OrderJson {
  return {
    id: order.id,
    customerId: order.customerId,
    status: orderStatusName(order.status),
    items: order.items.map((line) => ({
      itemId: line.itemId,
      name: line.name,
      quantity: line.quantity,
      unitPriceCents: line.unitPriceCents,
      lineTotalCents: line.lineTotalCents,
    })),
    totalCents: order.totalCents,
    currency: order.currency,
    paymentUrl: orNull(order.paymentUrl),
    history: order.history.map((change) => ({ status: orderStatusName(change.status), at: change.at })),
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}

/** `available` is null when availability is unknown (stock unreachable). */
export function toMenuItemJson(item: MenuItem, available: number | null): MenuItemJson {
  return {
    id: item.id,
    name: item.name,
    description: item.description,
    priceCents: item.priceCents,
    currency: item.currency,
    available,
  };
}

export function toTicketJson(ticket: Ticket): TicketJson {
  return {
    id: ticket.id,
    orderId: ticket.orderId,
    status: ticketStatusName(ticket.status),
    items: ticket.items.map((item) => ({ itemId: item.itemId, name: item.name, quantity: item.quantity })),
    createdAt: ticket.createdAt,
    startedAt: orNull(ticket.startedAt),
    readyAt: orNull(ticket.readyAt),
  };
}

export function toDeadLetterQueueJson(service: string, queue: DeadLetterQueue) {
  return {
    service,
    queue: queue.queue,
    count: queue.count,
    newest: queue.newest.map((letter) => ({
      eventId: letter.eventId,
      type: letter.type,
      lastError: letter.lastError,
      attempts: letter.attempts,
      traceId: letter.traceId,
    })),
  };
}
