import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReservationStatus, type StockServiceService } from '@oms/contracts';
import type { RpcClient } from '@oms/rpc';
import { OrderDomain } from './order-domain';
import type { NewOrder, OrderStore } from './order-store';

test('an order lapses when its reservation does, however late the reservation answered', async () => {
  const reservationExpiresAt = '2026-11-29T08:00:00.000Z';
  const inserted: NewOrder[] = [];
  const announced: Date[] = [];
  const stock = {
    reserve: async (request: { reservationId: string; lines: { itemId: string; quantity: number }[] }) => {
      await new Promise((resolve) => setTimeout(resolve, 50)); // a slow answer
      return {
        id: request.reservationId,
        status: ReservationStatus.RESERVATION_STATUS_RESERVED,
        lines: request.lines,
        expiresAt: reservationExpiresAt,
      };
    },
  } as unknown as RpcClient<typeof StockServiceService>;
  const store = {
    insertPending: async (order: NewOrder) => {
      inserted.push(order);
      return { id: order.id };
    },
  } as unknown as OrderStore;
  const domain = new OrderDomain({
    store,
    stock,
    menu: {
      items: async () => [{ id: 'pizza', name: 'Pizza', description: '', priceCents: 900, currency: 'usd' }],
    },
    reservationTtlSeconds: 900,
    expiries: { dueBy: (at) => announced.push(at) },
  });

  await domain.create('alice', [{ itemId: 'pizza', quantity: 1 }], 'request-1');

  assert.equal(inserted[0]?.expiresAt.toISOString(), reservationExpiresAt);
  assert.deepEqual(announced, [new Date(reservationExpiresAt)]);
});
