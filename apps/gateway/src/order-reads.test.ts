import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { OrderServiceService, type GetOrderRequest } from '@oms/contracts';
import { RpcError } from '@oms/rpc';
import { fakeClient, sampleOrder, unavailable } from '../test/test-support';
import { withCoalescedGetOrder } from './order-reads';

/** An order client whose GetOrder and GetOrders record their calls and answer from `stored`. */
function recordingClient(stored: { id: string; customerId: string }[], getOrdersError?: Error) {
  const calls = { getOrder: [] as GetOrderRequest[], getOrders: [] as GetOrderRequest[][] };
  const find = ({ customerId, orderId }: GetOrderRequest) =>
    stored.find((order) => order.id === orderId && order.customerId === customerId);
  const client = fakeClient(OrderServiceService, {
    getOrder: async (request) => {
      calls.getOrder.push(request);
      const found = find(request);
      if (!found) throw new RpcError(status.NOT_FOUND, 'not_found', 'order not found');
      return sampleOrder(found);
    },
    getOrders: async ({ orders }) => {
      calls.getOrders.push(orders);
      if (getOrdersError) throw getOrdersError;
      return { orders: orders.flatMap((ref) => (find(ref) ? [sampleOrder(find(ref))] : [])) };
    },
  });
  return { client: withCoalescedGetOrder(client), calls };
}

const ref = (customerId: string, orderId: string): GetOrderRequest => ({ customerId, orderId });

const outcome = (promise: Promise<{ id: string }>) =>
  promise.then(
    (order) => order.id,
    (error: unknown) => (error instanceof RpcError ? status[error.code] : String(error)),
  );

test('gets made together are one GetOrders, and each caller gets its own answer', async () => {
  const { client, calls } = recordingClient([
    { id: 'o1', customerId: 'alice' },
    { id: 'o2', customerId: 'bob' },
  ]);
  const answers = await Promise.all(
    [ref('alice', 'o1'), ref('bob', 'o2'), ref('alice', 'nope'), ref('alice', 'o2')].map((request) =>
      outcome(client.getOrder(request)),
    ),
  );
  // bob's order asked for as alice's is not found, as GetOrder answers it
  assert.deepEqual(answers, ['o1', 'o2', 'NOT_FOUND', 'NOT_FOUND']);
  assert.equal(calls.getOrders.length, 1);
  assert.equal(calls.getOrders[0]!.length, 4);
  assert.equal(calls.getOrder.length, 0);
});

test('a get alone is a plain GetOrder, with its own answer', async () => {
  const { client, calls } = recordingClient([{ id: 'o1', customerId: 'alice' }]);
  assert.equal(await outcome(client.getOrder(ref('alice', 'o1'))), 'o1');
  assert.equal(await outcome(client.getOrder(ref('alice', 'nope'))), 'NOT_FOUND');
  assert.deepEqual(calls.getOrder, [ref('alice', 'o1'), ref('alice', 'nope')]);
  assert.equal(calls.getOrders.length, 0);
});

test('a GetOrders that fails fails every get it carried, with its error', async () => {
  const { client } = recordingClient([{ id: 'o1', customerId: 'alice' }], unavailable('order'));
  const answers = await Promise.all(
    [ref('alice', 'o1'), ref('alice', 'o2')].map((request) => outcome(client.getOrder(request))),
  );
  assert.deepEqual(answers, ['UNAVAILABLE', 'UNAVAILABLE']);
});

test('every get asks the order service again (nothing is cached)', async () => {
  const { client, calls } = recordingClient([{ id: 'o1', customerId: 'alice' }]);
  await client.getOrder(ref('alice', 'o1'));
  await client.getOrder(ref('alice', 'o1'));
  assert.equal(calls.getOrder.length, 2);
});

test('the other methods are the client as it was', async () => {
  const { client } = recordingClient([{ id: 'o1', customerId: 'alice' }]);
  const { orders } = await client.getOrders({ orders: [ref('alice', 'o1')] });
  assert.deepEqual(
    orders.map((order) => order.id),
    ['o1'],
  );
  await assert.rejects(client.listOrders({ customerId: 'alice', limit: 1, cursor: '' }), RpcError);
});
