import type { Order, OrderLineInput, StockServiceService } from '@oms/contracts';
import { OrderStatus } from '@oms/contracts';
import { RpcError, type RpcClient } from '@oms/rpc';
import type { Logger } from '@oms/logging';
import { setOrderId } from '@oms/telemetry';
import type { MenuPrices } from './menu-prices';
import {
  beingPaid,
  isCancellable,
  notCancellable,
  orderIdFor,
  priceLines,
  validateOrderRequest,
} from './order-rules';
import type { OrderStore } from './order-store';

export interface OrderDomainDependencies {
  store: OrderStore;
  /** Menu items by id, cached for a few seconds (menu-prices.ts). */
  menu: Pick<MenuPrices, 'items'>;
  stock: RpcClient<typeof StockServiceService>;
  reservationTtlSeconds: number;
  /** Told of every new order's expiry, so that it is failed on time (the expiry sweeper). */
  expiries: { dueBy(at: Date): void };
  logger: Pick<Logger, 'warn'>;
}

/** What moved an order: the payment link it now waits on, or why it ended. */
export interface TransitionChanges {
  paymentUrl?: string;
  reason?: string;
}

/** Stock's refusal to commit a reservation that already went back (released or expired). */
const RESERVATION_GONE = 'reservation_released';

const ENDS_RESERVATION = new Set([OrderStatus.ORDER_STATUS_FAILED, OrderStatus.ORDER_STATUS_CANCELLED]);

/**
 * Everything that changes an order, in one place: the gRPC handlers, the event handlers and the
 * expiry sweeper all call it. A status only changes through `advance` (the state machine is the
 * write's precondition), and every way an order ends gives its stock back the same way.
 */
export class OrderDomain {
  constructor(private readonly deps: OrderDomainDependencies) {}

  async create(customerId: string, items: OrderLineInput[], requestId: string): Promise<Order> {
    const { store, menu, stock, reservationTtlSeconds, expiries } = this.deps;
    const lines = validateOrderRequest(customerId, items);
    const orderId = orderIdFor(customerId, requestId);
    setOrderId(orderId);
    const priced = priceLines(lines, await menu.items(lines.map((line) => line.itemId)));
    // Reserve before the order exists: a crash in between leaves only a reservation, which
    // expires. A repeated request reserves again harmlessly (same id) and gets the stored order.
    let reservation: { expiresAt: string };
    try {
      reservation = await stock.reserve({ reservationId: orderId, lines, ttlSeconds: reservationTtlSeconds });
    } catch (error) {
      // The repeat of an order that has moved on since (cancelled: its reservation is released).
      const existing = requestId ? await store.get(orderId) : undefined;
      if (existing) return existing;
      throw error;
    }
    // The order lapses when its reservation does, not a TTL after the reply: a slow reply would
    // otherwise leave an unpaid order open, and payable, after its stock went back.
    const expiresAt = reservationExpiry(reservation.expiresAt, reservationTtlSeconds);
    const order = await store.insertPending({ id: orderId, customerId, ...priced, expiresAt });
    expiries.dueBy(expiresAt);
    return order;
  }

  /** The order, if it exists and belongs to `customerId`. */
  async owned(customerId: string, orderId: string): Promise<Order | undefined> {
    setOrderId(orderId);
    const order = await this.deps.store.get(orderId);
    return order && order.customerId === customerId ? order : undefined;
  }

  /** Cancels a pending or awaiting-payment order; a cancelled one is returned as it is. */
  async cancel(order: Order): Promise<Order> {
    if (order.status === OrderStatus.ORDER_STATUS_CANCELLED) return order;
    if (!isCancellable(order.status)) throw notCancellable(order.status);
    const cancelled = await this.advance(order.id, OrderStatus.ORDER_STATUS_CANCELLED, {
      reason: 'cancelled_by_customer',
    });
    if (cancelled?.status === OrderStatus.ORDER_STATUS_CANCELLED) return cancelled;
    const now = cancelled?.status ?? order.status;
    // Still unpaid, yet not cancelled: a payment that succeeded has claimed it.
    throw isCancellable(now) ? beingPaid() : notCancellable(now);
  }

  /**
   * A payment succeeded. The order is claimed for it (only while its reservation holds; cancel
   * and expiry then leave it alone), its stock is sold, and only then is it marked paid, so no
   * order is ever paid for stock that went back. A payment for an order that ended or lapsed first
   * changes nothing: it is a refund case. Each step is idempotent, so a redelivered event runs
   * them again safely.
   */
  async pay(orderId: string): Promise<Order | undefined> {
    setOrderId(orderId);
    if (!(await this.deps.store.claimForPayment(orderId))) return this.deps.store.get(orderId);
    return this.settlePayment(orderId);
  }

  /**
   * An unpaid order whose reservation lapsed fails and gives its stock back. One claimed for a
   * payment that was never finished (its event dead-lettered, say) has its payment finished.
   */
  async expire(orderId: string): Promise<Order | undefined> {
    setOrderId(orderId);
    const failed = await this.advance(orderId, OrderStatus.ORDER_STATUS_FAILED, {
      reason: 'reservation_expired',
    });
    if (failed && isCancellable(failed.status)) return this.settlePayment(orderId);
    return failed;
  }

  /** Sells a claimed order's stock, then marks it paid; if the reservation lapsed first, it fails. */
  private async settlePayment(orderId: string): Promise<Order | undefined> {
    const { store, stock } = this.deps;
    try {
      await stock.commit({ reservationId: orderId });
    } catch (error) {
      if (!(error instanceof RpcError && error.reason === RESERVATION_GONE)) throw error;
      const failed = await store.transition(
        orderId,
        OrderStatus.ORDER_STATUS_FAILED,
        { reason: 'reservation_expired' },
        { settlingPayment: true },
      );
      if (failed) await this.releaseOrDefer(orderId);
      return failed ?? store.get(orderId);
    }
    const paid = await store.transition(orderId, OrderStatus.ORDER_STATUS_PAID, {
      reason: 'payment_succeeded',
    });
    return paid ?? store.get(orderId);
  }

  /**
   * Moves an order forward if the state machine allows it from where it is; a backward or repeated
   * move changes nothing. Returns the order as it is afterwards (undefined if it does not exist).
   * An order this call ends (failed or cancelled) gives its stock back.
   */
  async advance(
    orderId: string,
    to: OrderStatus,
    changes: TransitionChanges = {},
  ): Promise<Order | undefined> {
    setOrderId(orderId);
    const moved = await this.deps.store.transition(orderId, to, changes);
    if (moved && ENDS_RESERVATION.has(moved.status)) await this.releaseOrDefer(orderId);
    return moved ?? (await this.deps.store.get(orderId));
  }

  /**
   * Gives an ended order's stock back now if stock answers. The order is marked (releasePending)
   * in the same write that ended it, so if stock is away the expiry sweeper releases it later:
   * the end of the order stands either way, and an event that ended it is not retried for it.
   */
  private async releaseOrDefer(orderId: string): Promise<void> {
    try {
      await this.releaseStock(orderId);
    } catch (error) {
      this.deps.logger.warn({ err: error, 'order.id': orderId }, 'stock release deferred to the sweeper');
    }
  }

  /** Gives an ended order's reservation back; idempotent (the release and the mark both are). */
  async releaseStock(orderId: string): Promise<void> {
    await this.deps.stock.release({ reservationId: orderId });
    await this.deps.store.markStockReleased(orderId);
  }
}

/** The reservation's own expiry; a stock service too old to send one gets the TTL from now. */
export function reservationExpiry(expiresAt: string, ttlSeconds: number, now = Date.now()): Date {
  const at = Date.parse(expiresAt);
  return Number.isFinite(at) ? new Date(at) : new Date(now + ttlSeconds * 1000);
}
