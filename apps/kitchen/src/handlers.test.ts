import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcError } from '@oms/rpc';
import { kitchenHandlers } from './handlers';
import type { TicketStore } from './ticket-store';

test('tickets are filtered by status and order id', async () => {
  const seen: unknown[] = [];
  const store = { list: async (filter: unknown) => (seen.push(filter), []) } as unknown as TicketStore;
  await kitchenHandlers(store).listTickets({ status: 'queued', orderId: 'ord_1' });
  assert.deepEqual(seen, [{ status: 'queued', orderId: 'ord_1' }]);
});

test('an unknown status is an invalid argument', async () => {
  const store = { list: async () => [] } as unknown as TicketStore;
  await assert.rejects(kitchenHandlers(store).listTickets({ status: 'burnt', orderId: '' }), RpcError);
});
