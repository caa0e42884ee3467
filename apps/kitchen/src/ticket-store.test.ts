// Integration tests of the ticket store against the real MongoDB-wire server of the local stack.
// Each test uses a database of its own and drops it afterwards.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TicketStatus } from '@oms/contracts';
import { relayNothing } from '@oms/messaging';
import { openTestDatabase } from '@oms/testing';
import { TicketStore } from './ticket-store';

async function openStore(t: TestContext): Promise<TicketStore> {
  // Nothing is published here: staged events stay in the documents.
  return TicketStore.open(await openTestDatabase(t, 'kitchen_test'), relayNothing);
}

const paidOrder = {
  orderId: 'ord_1',
  customerId: 'c1',
  items: [{ itemId: 'margherita', name: 'Margherita', quantity: 2, unitPriceCents: 1250 }],
};

test('a ticket answers its status as the proto enum, and is listed by the lowercase name', async (t) => {
  const store = await openStore(t);
  const statuses = async (filter: { status?: string } = {}) =>
    (await store.list({ orderId: 'ord_1', ...filter })).map((ticket) => ticket.status);

  assert.equal(await store.createForPaidOrder(paidOrder, {}), true);
  assert.deepEqual(await statuses(), [TicketStatus.TICKET_STATUS_QUEUED]);
  assert.deepEqual(await statuses({ status: 'queued' }), [TicketStatus.TICKET_STATUS_QUEUED]);

  const claimed = await store.claimQueued('cook-1', 60_000);
  assert.equal(claimed?.status, 'preparing', 'the document keeps the lowercase name');
  assert.deepEqual(await statuses(), [TicketStatus.TICKET_STATUS_PREPARING]);
  assert.deepEqual(await statuses({ status: 'queued' }), []);

  assert.equal(await store.markReady(claimed!, 'cook-1'), true);
  assert.deepEqual(await statuses({ status: 'ready' }), [TicketStatus.TICKET_STATUS_READY]);
});
