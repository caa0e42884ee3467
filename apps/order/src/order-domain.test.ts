import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { OrderStatus, ReservationStatus, type Order, type StockServiceService } from '@oms/contracts';
import { DomainError } from '@oms/domain';
import { RpcError, type RpcClient } from '@oms/rpc';
import { OrderDomain, type OrderDomainDependencies } from './order-domain';
import { STATUS_NAMES } from './order-rules';
import type { NewOrder, OrderStore } from './order-store';

const refusal = (reason: string) => (error: unknown) =>
  error instanceof DomainError && error.kind === 'precondition_failed' && error.reason === reason;

/** A domain over these fakes, with an empty menu, no expiry schedule and a silent logger unless given. */
const domainOver = (
  fakes: Pick<OrderDomainDependencies, 'store' | 'stock'> & Partial<OrderDomainDependencies>,
) =>
  new OrderDomain({
    menu: { items: async () => [] },
    reservationTtlSeconds: 900,
    expiries: { dueBy: () => undefined },
    logger: { warn: () => undefined },
    ...fakes,
  });

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
  const domain = domainOver({
    store,
    stock,
    menu: {
      items: async () => [{ id: 'pizza', name: 'Pizza', description: '', priceCents: 900, currency: 'usd' }],
    },
    expiries: { dueBy: (at) => announced.push(at) },
  });

  await domain.create('alice', [{ itemId: 'pizza', quantity: 1 }], 'request-1');

  assert.equal(inserted[0]?.expiresAt.toISOString(), reservationExpiresAt);
  assert.deepEqual(announced, [new Date(reservationExpiresAt)]);
});

/** A store and stock that record what the domain asked of them, in order. */
function paymentFixture(
  options: { claimable?: boolean; commit?: () => Promise<void>; release?: () => Promise<void> } = {},
) {
  const calls: string[] = [];
  const warnings: unknown[][] = [];
  let status = OrderStatus.ORDER_STATUS_AWAITING_PAYMENT;
  const order = () => ({ id: 'ord_1', customerId: 'alice', status }) as Order;
  const store = {
    claimForPayment: async () => {
      calls.push('claim');
      return options.claimable ?? true;
    },
    transition: async (
      _id: string,
      to: OrderStatus,
      _changes: unknown,
      flags?: { settlingPayment?: boolean },
    ) => {
      calls.push(`transition ${STATUS_NAMES[to]}${flags?.settlingPayment ? ' (settling)' : ''}`);
      // A claimed order refuses cancel and plain expiry, as the real filter does.
      if (to !== OrderStatus.ORDER_STATUS_PAID && !flags?.settlingPayment && (options.claimable ?? true))
        return undefined;
      status = to;
      return order();
    },
    get: async () => order(),
    markStockReleased: async () => void calls.push('mark released'),
  } as unknown as OrderStore;
  const stock = {
    commit: async () => {
      calls.push('commit');
      await options.commit?.();
      return {};
    },
    release: async () => {
      calls.push('release');
      await options.release?.();
      return {};
    },
  } as unknown as RpcClient<typeof StockServiceService>;
  const domain = domainOver({
    store,
    stock,
    logger: { warn: (...args: unknown[]) => void warnings.push(args) },
  });
  return { domain, calls, order, warnings };
}

test('a payment sells the stock before the order is marked paid', async () => {
  const { domain, calls } = paymentFixture();
  const paid = await domain.pay('ord_1');
  assert.equal(paid?.status, OrderStatus.ORDER_STATUS_PAID);
  assert.deepEqual(calls, ['claim', 'commit', 'transition paid']);
});

test('a payment for an order that ended or lapsed first sells nothing', async () => {
  const { domain, calls } = paymentFixture({ claimable: false });
  const order = await domain.pay('ord_1');
  assert.equal(order?.status, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
  assert.deepEqual(calls, ['claim']);
});

test('a payment whose reservation went back first fails the order and releases what is left', async () => {
  const gone = new RpcError(
    status.FAILED_PRECONDITION,
    'reservation_released',
    'reservation ord_1 is expired',
  );
  const { domain, calls } = paymentFixture({ commit: () => Promise.reject(gone) });
  const order = await domain.pay('ord_1');
  assert.equal(order?.status, OrderStatus.ORDER_STATUS_FAILED);
  assert.deepEqual(calls, ['claim', 'commit', 'transition failed (settling)', 'release', 'mark released']);
});

test('a payment whose commit could not be made is not marked anything (its event is retried)', async () => {
  const away = new RpcError(status.UNAVAILABLE, 'unavailable', 'stock is away');
  const { domain, calls } = paymentFixture({ commit: () => Promise.reject(away) });
  await assert.rejects(domain.pay('ord_1'), away);
  assert.deepEqual(calls, ['claim', 'commit']);
});

test('an order being paid cannot be cancelled, and its expiry finishes the payment instead', async () => {
  const { domain, calls, order } = paymentFixture();
  await assert.rejects(domain.cancel(order()), refusal('not_cancellable'));
  assert.deepEqual(calls, ['transition cancelled']);
  calls.length = 0;
  const settled = await domain.expire('ord_1');
  assert.equal(settled?.status, OrderStatus.ORDER_STATUS_PAID);
  assert.deepEqual(calls, ['transition failed', 'commit', 'transition paid']);
});

test('an order ended while stock is away stays ended; its release is left to the sweeper', async () => {
  const gone = new RpcError(
    status.FAILED_PRECONDITION,
    'reservation_released',
    'reservation ord_1 is expired',
  );
  const away = new RpcError(status.UNAVAILABLE, 'unavailable', 'stock is unavailable (circuit open)');
  const { domain, calls, warnings } = paymentFixture({
    commit: () => Promise.reject(gone),
    release: () => Promise.reject(away),
  });
  const order = await domain.pay('ord_1');
  assert.equal(order?.status, OrderStatus.ORDER_STATUS_FAILED);
  // no 'mark released': the order keeps releasePending, which the sweeper acts on
  assert.deepEqual(calls, ['claim', 'commit', 'transition failed (settling)', 'release']);
  assert.equal(warnings.length, 1);
});

test('an event about an order that had already ended releases nothing', async () => {
  const calls: string[] = [];
  const store = {
    transition: async () => undefined,
    get: async () => ({ id: 'ord_1', status: OrderStatus.ORDER_STATUS_CANCELLED }) as Order,
  } as unknown as OrderStore;
  const stock = {
    release: async () => void calls.push('release'),
  } as unknown as RpcClient<typeof StockServiceService>;
  const domain = domainOver({ store, stock });
  const order = await domain.advance('ord_1', OrderStatus.ORDER_STATUS_FAILED, { reason: 'late' });
  assert.equal(order?.status, OrderStatus.ORDER_STATUS_CANCELLED);
  assert.deepEqual(calls, []);
});
