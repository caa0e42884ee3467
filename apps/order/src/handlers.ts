import type { Order, OrderServiceService, StockServiceService } from '@oms/contracts';
import { OrderStatus } from '@oms/contracts';
import { invalidArgument, notFound, type RpcClient, type UnaryHandlers } from '@oms/rpc';
import { setOrderId } from '@oms/telemetry';
import { isCancellable, notCancellable, orderIdFor, priceLines, validateOrderRequest } from './order-rules';
import type { MenuPrices } from './menu-prices';
import type { OrderStore } from './order-store';

export interface OrderDependencies {
  store: OrderStore;
  /** Menu items by id, cached for a few seconds (menu-prices.ts). */
  menu: Pick<MenuPrices, 'items'>;
  stock: RpcClient<typeof StockServiceService>;
  reservationTtlSeconds: number;
  /** Told of every new order's expiry, so that it is failed on time (the expiry sweeper). */
  expiries: { dueBy(at: Date): void };
}

export function orderHandlers({
  store,
  menu,
  stock,
  reservationTtlSeconds,
  expiries,
}: OrderDependencies): UnaryHandlers<typeof OrderServiceService> {
  /** An order of another customer is "not found": never confirm that someone else's id exists. */
  async function ownedOrder(customerId: string, orderId: string): Promise<Order> {
    setOrderId(orderId);
    const order = await store.get(orderId);
    if (!order || order.customerId !== customerId) throw notFound(`order ${orderId} not found`);
    return order;
  }

  /** Applies a forward transition; a backward or repeated one changes nothing and returns the order. */
  async function advance(
    orderId: string,
    to: OrderStatus,
    changes: { paymentUrl?: string; reason?: string },
  ): Promise<Order> {
    const moved = await store.transition(orderId, to, changes);
    if (moved) return moved;
    const current = await store.get(orderId);
    if (!current) throw notFound(`order ${orderId} not found`);
    return current;
  }

  async function releaseStock(orderId: string): Promise<void> {
    await stock.release({ reservationId: orderId });
    await store.markStockReleased(orderId);
  }

  return {
    async createOrder({ customerId, items, requestId }) {
      const lines = validateOrderRequest(customerId, items);
      const orderId = orderIdFor(customerId, requestId);
      setOrderId(orderId);
      const priced = priceLines(lines, await menu.items(lines.map((line) => line.itemId)));
      // Reserve before the order exists: a crash in between leaves only a reservation, which
      // expires. A repeated request reserves again harmlessly (same id) and gets the stored order.
      try {
        await stock.reserve({ reservationId: orderId, lines, ttlSeconds: reservationTtlSeconds });
      } catch (error) {
        // The repeat of an order that has moved on since (cancelled: its reservation is released).
        const existing = requestId ? await store.get(orderId) : undefined;
        if (existing) return existing;
        throw error;
      }
      const expiresAt = new Date(Date.now() + reservationTtlSeconds * 1000);
      const order = await store.insertPending({ id: orderId, customerId, ...priced, expiresAt });
      expiries.dueBy(expiresAt);
      return order;
    },

    getOrder: ({ customerId, orderId }) => ownedOrder(customerId, orderId),

    async listOrders({ customerId, limit, cursor }) {
      if (limit < 0 || limit > 100) throw invalidArgument('limit must be 1..100');
      const page = await store.listByCustomer(customerId, limit === 0 ? 20 : limit, cursor || undefined);
      if (page === 'bad_cursor') throw invalidArgument('cursor is not valid', [{ field: 'cursor' }]);
      return { orders: page.orders, nextCursor: page.nextCursor ?? '' };
    },

    async cancelOrder({ customerId, orderId }) {
      const order = await ownedOrder(customerId, orderId);
      if (order.status === OrderStatus.ORDER_STATUS_CANCELLED) return order;
      if (!isCancellable(order.status)) throw notCancellable(order.status);
      const cancelled = await advance(orderId, OrderStatus.ORDER_STATUS_CANCELLED, {
        reason: 'cancelled_by_customer',
      });
      if (cancelled.status !== OrderStatus.ORDER_STATUS_CANCELLED) throw notCancellable(cancelled.status);
      // If this fails the order stays cancelled and the sweeper retries the release.
      await releaseStock(orderId);
      return cancelled;
    },

    async advanceOrder({ orderId, status, paymentUrl, reason }) {
      setOrderId(orderId);
      if (status === OrderStatus.ORDER_STATUS_UNSPECIFIED || status === OrderStatus.UNRECOGNIZED) {
        throw invalidArgument('status is required');
      }
      const order = await advance(orderId, status, {
        paymentUrl: paymentUrl || undefined,
        reason: reason || undefined,
      });
      if (
        order.status === OrderStatus.ORDER_STATUS_FAILED ||
        order.status === OrderStatus.ORDER_STATUS_CANCELLED
      ) {
        await releaseStock(orderId);
      }
      return order;
    },
  };
}
