import { createHash, randomBytes } from 'node:crypto';
import { OrderStatus, type MenuItem, type OrderLine, type OrderLineInput } from '@oms/contracts';
import {
  DomainError,
  ID,
  ID_PATTERN,
  invalid,
  lineProblems,
  mergeLines,
  MAX_QUANTITY,
  refused,
} from '@oms/domain';

/** Checks every field and reports every problem at once; returns the lines merged by item. */
export function validateOrderRequest(customerId: string, lines: readonly OrderLineInput[]): OrderLineInput[] {
  const problems = lineProblems(lines, { maxQuantity: MAX_QUANTITY });
  if (!ID.test(customerId)) problems.unshift({ field: 'customerId', problem: `must match ${ID_PATTERN}` });
  if (problems.length > 0) throw invalid('invalid order', problems);
  return mergeLines(lines);
}

/** Prices come from the menu, never from the client; totals are integer cents. */
export function priceLines(
  lines: readonly OrderLineInput[],
  menuItems: readonly MenuItem[],
): { items: OrderLine[]; totalCents: number; currency: string } {
  const byId = new Map(menuItems.map((item) => [item.id, item]));
  const unknown = lines.filter((line) => !byId.has(line.itemId));
  if (unknown.length > 0) {
    throw invalid(
      `unknown item${unknown.length > 1 ? 's' : ''}: ${unknown.map((l) => l.itemId).join(', ')}`,
      unknown.map((line) => ({ itemId: line.itemId })),
      'unknown_item',
    );
  }
  const items = lines.map((line) => {
    const item = byId.get(line.itemId)!;
    return {
      itemId: item.id,
      name: item.name,
      quantity: line.quantity,
      unitPriceCents: item.priceCents,
      lineTotalCents: item.priceCents * line.quantity,
    };
  });
  const currencies = new Set(lines.map((line) => byId.get(line.itemId)!.currency));
  if (currencies.size > 1)
    throw invalid(
      'items are priced in different currencies',
      [...currencies].map((c) => ({ currency: c })),
    );
  return {
    items,
    totalCents: items.reduce((sum, line) => sum + line.lineTotalCents, 0),
    currency: [...currencies][0]!,
  };
}

/**
 * The same customer and request id always name the same order, so a retried or concurrent create
 * finds the order (and the stock reservation) of the first attempt instead of making another.
 */
export function orderIdFor(customerId: string, requestId: string): string {
  if (requestId === '') return `ord_${randomBytes(12).toString('hex')}`;
  return `ord_${createHash('sha256').update(`${customerId}\u0000${requestId}`).digest('hex').slice(0, 24)}`;
}

const FORWARD_RANK: Partial<Record<OrderStatus, number>> = {
  [OrderStatus.ORDER_STATUS_PENDING]: 0,
  [OrderStatus.ORDER_STATUS_AWAITING_PAYMENT]: 1,
  [OrderStatus.ORDER_STATUS_PAID]: 2,
  [OrderStatus.ORDER_STATUS_PREPARING]: 3,
  [OrderStatus.ORDER_STATUS_READY]: 4,
};

const CANCELLABLE = new Set([OrderStatus.ORDER_STATUS_PENDING, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT]);

export const isCancellable = (status: OrderStatus) => CANCELLABLE.has(status);

/**
 * Whether an order may move from `from` to `to`. Only forward along the happy path (skipping
 * steps is allowed: events can arrive out of order), and cancelled/failed only before payment.
 * Terminal statuses never move again.
 */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  if (to === OrderStatus.ORDER_STATUS_CANCELLED || to === OrderStatus.ORDER_STATUS_FAILED)
    return CANCELLABLE.has(from);
  const fromRank = FORWARD_RANK[from];
  const toRank = FORWARD_RANK[to];
  return fromRank !== undefined && toRank !== undefined && toRank > fromRank;
}

const ALL_STATUSES: readonly OrderStatus[] = [
  OrderStatus.ORDER_STATUS_PENDING,
  OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
  OrderStatus.ORDER_STATUS_PAID,
  OrderStatus.ORDER_STATUS_PREPARING,
  OrderStatus.ORDER_STATUS_READY,
  OrderStatus.ORDER_STATUS_CANCELLED,
  OrderStatus.ORDER_STATUS_FAILED,
];

/** The statuses an order may be in for a move to `to`: the precondition of that write. */
export function statusesBefore(to: OrderStatus): OrderStatus[] {
  return ALL_STATUSES.filter((from) => canTransition(from, to));
}

export const STATUS_NAMES: Record<number, string> = {
  [OrderStatus.ORDER_STATUS_PENDING]: 'pending',
  [OrderStatus.ORDER_STATUS_AWAITING_PAYMENT]: 'awaiting_payment',
  [OrderStatus.ORDER_STATUS_PAID]: 'paid',
  [OrderStatus.ORDER_STATUS_PREPARING]: 'preparing',
  [OrderStatus.ORDER_STATUS_READY]: 'ready',
  [OrderStatus.ORDER_STATUS_CANCELLED]: 'cancelled',
  [OrderStatus.ORDER_STATUS_FAILED]: 'failed',
};

export function notCancellable(status: OrderStatus): DomainError {
  return refused('not_cancellable', `an order that is ${STATUS_NAMES[status]} cannot be cancelled`);
}

export function beingPaid(): DomainError {
  return refused('not_cancellable', 'the order is being paid and can no longer be cancelled');
}
