import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { MAX_ORDERS_PER_GET, type StockServiceService } from '@oms/contracts';
import { RpcError, type RpcClient } from '@oms/rpc';
import { orderHandlers } from './handlers';
import { OrderDomain } from './order-domain';
import type { OrderStore } from './order-store';

/** A domain over this store alone: reads need nothing else. */
const domainOver = (store: OrderStore) =>
  new OrderDomain({
    store,
    stock: {} as RpcClient<typeof StockServiceService>,
    menu: { items: async () => [] },
    reservationTtlSeconds: 900,
    expiries: { dueBy: () => undefined },
    logger: { warn: () => undefined },
  });

test('GetOrders answers each order as GetOrder would, leaving out the missing and the not owned', async () => {
  const stored = new Map([
    ['o1', { id: 'o1', customerId: 'alice' }],
    ['o2', { id: 'o2', customerId: 'bob' }],
  ]);
  const reads: string[] = [];
  const store = {
    get: async (orderId: string) => {
      reads.push(orderId);
      return stored.get(orderId);
    },
  } as unknown as OrderStore;
  const handlers = orderHandlers(domainOver(store), store);
  const { orders } = await handlers.getOrders({
    orders: [
      { customerId: 'alice', orderId: 'o1' },
      { customerId: 'alice', orderId: 'o2' },
      { customerId: 'bob', orderId: 'o2' },
      { customerId: 'bob', orderId: 'missing' },
    ],
  });
  assert.deepEqual(
    orders.map((order) => `${order.customerId}/${order.id}`),
    ['alice/o1', 'bob/o2'],
  );
  assert.deepEqual(reads, ['o1', 'o2', 'o2', 'missing']);

  const tooMany = Array.from({ length: MAX_ORDERS_PER_GET + 1 }, (_, i) => ({
    customerId: 'alice',
    orderId: `o${i}`,
  }));
  await assert.rejects(
    handlers.getOrders({ orders: tooMany }),
    (error: unknown) => error instanceof RpcError && error.code === status.INVALID_ARGUMENT,
  );
});
