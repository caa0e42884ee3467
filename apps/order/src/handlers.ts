import { MAX_ORDERS_PER_GET, type Order, type OrderServiceService } from '@oms/contracts';
import { invalidArgument, notFound, type UnaryHandlers } from '@oms/rpc';
import type { OrderDomain } from './order-domain';
import type { OrderStore } from './order-store';

/**
 * The order service's RPCs: what a caller may ask for. None of them sets a status: an order
 * moves only through its own domain (cancel) and the events it consumes.
 */
export function orderHandlers(
  domain: OrderDomain,
  store: OrderStore,
): UnaryHandlers<typeof OrderServiceService> {
  /** An order of another customer is "not found": never confirm that someone else's id exists. */
  async function ownedOrder(customerId: string, orderId: string): Promise<Order> {
    const order = await domain.owned(customerId, orderId);
    if (!order) throw notFound(`order ${orderId} not found`);
    return order;
  }

  return {
    createOrder: ({ customerId, items, requestId }) => domain.create(customerId, items, requestId),

    getOrder: ({ customerId, orderId }) => ownedOrder(customerId, orderId),

    async getOrders({ orders }) {
      if (orders.length > MAX_ORDERS_PER_GET)
        throw invalidArgument(`at most ${MAX_ORDERS_PER_GET} orders a call`, [{ field: 'orders' }]);
      // Read together, these are one find (the store's reads by id).
      const found = await Promise.all(
        orders.map(({ customerId, orderId }) => domain.owned(customerId, orderId)),
      );
      return { orders: found.filter((order): order is Order => order !== undefined) };
    },

    async listOrders({ customerId, limit, cursor }) {
      if (limit < 0 || limit > 100) throw invalidArgument('limit must be 1..100');
      const page = await store.listByCustomer(customerId, limit === 0 ? 20 : limit, cursor || undefined);
      if (page === 'bad_cursor') throw invalidArgument('cursor is not valid', [{ field: 'cursor' }]);
      return { orders: page.orders, nextCursor: page.nextCursor ?? '' };
    },

    async cancelOrder({ customerId, orderId }) {
      return domain.cancel(await ownedOrder(customerId, orderId));
    },
  };
}
