import DataLoader from 'dataloader';
import {
  MAX_ORDERS_PER_GET,
  type GetOrderRequest,
  type Order,
  type OrderServiceService,
} from '@oms/contracts';
import { notFound, type RpcClient } from '@oms/rpc';

type OrderClient = RpcClient<typeof OrderServiceService>;

const refKey = (customerId: string, orderId: string) => `${customerId}\u0000${orderId}`;

/**
 * The order client with GetOrder calls that are made together sent as one GetOrders. Under load,
 * the gateway's get-order requests arrive many to a turn of the event loop; one call for each
 * cost the gateway and the order service a gRPC call's CPU per request, most of what a get-order
 * cost them. A call alone is still a GetOrder. Each caller gets what GetOrder would have answered
 * it: its order, NOT_FOUND, or the error that failed the call that carried it.
 *
 * The GetOrders call runs in the trace of the first request it serves; the others' traces end
 * at the gateway's span.
 */
export function withCoalescedGetOrder(client: OrderClient): OrderClient {
  const reads = new DataLoader<GetOrderRequest, Order>(
    async (refs) => {
      if (refs.length === 1) return [await client.getOrder(refs[0]!)];
      const { orders } = await client.getOrders({ orders: [...refs] });
      const byRef = new Map(orders.map((order) => [refKey(order.customerId, order.id), order]));
      return refs.map(
        ({ customerId, orderId }) =>
          byRef.get(refKey(customerId, orderId)) ?? notFound(`order ${orderId} not found`),
      );
    },
    {
      // Every read asks the order service: a cached order would hide its later moves.
      cache: false,
      maxBatchSize: MAX_ORDERS_PER_GET,
      // After this turn's I/O callbacks: requests from many sockets arrive through separate ones.
      batchScheduleFn: (run) => setImmediate(run),
    },
  );
  return { ...client, getOrder: (request) => reads.load(request) };
}
