import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newEvent } from '@oms/messaging';
import { waitFor } from '@oms/testing';
import type { OrderJson } from '../schemas';
import { hasReached, OrderBoard, type BoardUpdate } from './order-board';

const order = (id: string, status: string, updatedAt = '2026-01-01T00:00:00.000Z'): OrderJson => ({
  id,
  customerId: 'alice',
  status,
  items: [],
  totalCents: 100,
  currency: 'usd',
  paymentUrl: null,
  history: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt,
});

/** An order service whose answers a test scripts: each read takes the next status. */
function scriptedOrders(statuses: Record<string, string[]>) {
  const reads: string[] = [];
  return {
    reads,
    readOrder: async (_customerId: string, orderId: string) => {
      reads.push(orderId);
      const queue = statuses[orderId];
      if (!queue) return undefined;
      const status = queue.length > 1 ? queue.shift()! : queue[0]!;
      return order(orderId, status, new Date(Date.now() + reads.length).toISOString());
    },
  };
}

describe('OrderBoard', () => {
  test('an event makes the board read the order until the order service has applied it', async () => {
    const orders = scriptedOrders({ o1: ['pending', 'pending', 'awaiting_payment'] });
    const board = new OrderBoard({ readOrder: orders.readOrder, rereadDelaysMs: [1, 1, 1, 1] });
    const updates: BoardUpdate[] = [];
    board.subscribe((update) => updates.push(update));
    board.onEvent(newEvent('order.created', { orderId: 'o1', customerId: 'alice' }));
    await waitFor('the first read', () => orders.reads.length === 1);
    board.onEvent(newEvent('payment.session_created', { orderId: 'o1', paymentUrl: 'https://pay' }));
    await waitFor('the board to show awaiting_payment', () =>
      updates.some((update) => update.kind === 'order' && update.order.status === 'awaiting_payment'),
    );
    assert.deepEqual(
      board.snapshot().map(({ id, status }) => [id, status]),
      [['o1', 'awaiting_payment']],
    );
    // pending once for order.created; then pending, then awaiting_payment for the session event.
    assert.equal(orders.reads.length, 3);
    board.close();
  });

  test('orders of a customer it never heard of are not read; kitchen events are passed on', async () => {
    const orders = scriptedOrders({ o2: ['ready'] });
    const board = new OrderBoard({ readOrder: orders.readOrder, rereadDelaysMs: [1] });
    const updates: BoardUpdate[] = [];
    board.subscribe((update) => updates.push(update));
    board.onEvent(newEvent('kitchen.ticket_ready', { orderId: 'o2', ticketId: 't2' }));
    board.onEvent(newEvent('order.paid', { orderId: 'o3', customerId: 'bob', items: [] }));
    await waitFor('the read of the order whose customer is known', () => orders.reads.length === 1);
    assert.deepEqual(orders.reads, ['o3']);
    assert.deepEqual(
      updates
        .filter((update) => update.kind === 'kitchen')
        .map((update) => update.kind === 'kitchen' && update.type),
      ['kitchen.ticket_ready', 'kitchen.ticket_queued'],
    );
    board.close();
  });

  test('nothing is read while nobody watches; the first watcher gets what moved meanwhile, read once each', async () => {
    const orders = scriptedOrders({ a: ['awaiting_payment'], b: ['paid'] });
    const board = new OrderBoard({ readOrder: orders.readOrder, rereadDelaysMs: [1] });
    board.onEvent(newEvent('order.created', { orderId: 'a', customerId: 'alice' }));
    board.onEvent(newEvent('payment.session_created', { orderId: 'a', paymentUrl: 'https://pay' }));
    board.onEvent(newEvent('order.created', { orderId: 'b', customerId: 'bob' }));
    board.onEvent(newEvent('order.paid', { orderId: 'b', customerId: 'bob', items: [] }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(orders.reads, [], 'an unwatched board reads nothing');

    const updates: BoardUpdate[] = [];
    board.subscribe((update) => updates.push(update));
    await waitFor('both orders on the board', () => board.snapshot().length === 2);
    assert.deepEqual([...orders.reads].sort(), ['a', 'b']);
    assert.deepEqual(
      board.snapshot().map(({ id, status }) => [id, status]),
      [
        ['a', 'awaiting_payment'],
        ['b', 'paid'],
      ],
    );
    board.close();
  });

  test('events for an order already being read move its target instead of starting another read', async () => {
    let release: () => void = () => undefined;
    const reads: string[] = [];
    const board = new OrderBoard({
      readOrder: async (_customerId, orderId) => {
        reads.push(orderId);
        if (reads.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return order(orderId, reads.length === 1 ? 'pending' : 'paid', new Date().toISOString());
      },
      rereadDelaysMs: [1, 1],
    });
    board.subscribe(() => undefined);
    board.onEvent(newEvent('order.created', { orderId: 'o', customerId: 'alice' }));
    board.onEvent(newEvent('payment.session_created', { orderId: 'o', paymentUrl: 'https://pay' }));
    board.onEvent(newEvent('order.paid', { orderId: 'o', customerId: 'alice', items: [] }));
    assert.equal(reads.length, 1, 'one read loop');
    release();
    await waitFor('the board to show paid', () => board.snapshot()[0]?.status === 'paid');
    // the first read found pending, short of paid (the latest event's status): one re-read
    assert.equal(reads.length, 2);
    board.close();
  });

  test('tells when the first watcher comes and the last one goes, so its feed can change', () => {
    const changes: boolean[] = [];
    const board = new OrderBoard({
      readOrder: async () => undefined,
      onWatchedChange: (w) => changes.push(w),
    });
    const leaveFirst = board.subscribe(() => undefined);
    const leaveSecond = board.subscribe(() => undefined);
    leaveFirst();
    leaveFirst();
    assert.deepEqual(changes, [true], 'one watcher is still there');
    leaveSecond();
    assert.deepEqual(changes, [true, false]);
    board.subscribe(() => undefined);
    assert.deepEqual(changes, [true, false, true]);
    board.close();
  });

  test('an event that arrives twice (by both feeds) is taken once', async () => {
    const orders = scriptedOrders({ o: ['pending'] });
    const board = new OrderBoard({ readOrder: orders.readOrder, rereadDelaysMs: [1] });
    board.subscribe(() => undefined);
    const created = newEvent('order.created', { orderId: 'o', customerId: 'alice' });
    board.onEvent(created);
    await waitFor('the read', () => board.snapshot().length === 1);
    board.onEvent(created);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(orders.reads, ['o']);
    board.close();
  });

  test('a returning watcher gets every order on the board read again: unwatched, the board hears only of new and paid orders', async () => {
    const orders = scriptedOrders({ o: ['awaiting_payment', 'ready'] });
    const board = new OrderBoard({ readOrder: orders.readOrder, rereadDelaysMs: [1] });
    const leave = board.subscribe(() => undefined);
    board.onEvent(newEvent('payment.session_created', { orderId: 'o', paymentUrl: 'https://pay' }));
    board.onEvent(newEvent('order.created', { orderId: 'o', customerId: 'alice' }));
    await waitFor('the order on the board', () => board.snapshot()[0]?.status === 'awaiting_payment');
    leave();
    // It is paid, prepared and ready meanwhile; the unwatched board is fed none of that.
    board.subscribe(() => undefined);
    await waitFor('the order read again', () => board.snapshot()[0]?.status === 'ready');
    assert.deepEqual(orders.reads, ['o', 'o']);
    board.close();
  });

  test('keeps the latest orders, most recently changed first, and never goes back to an older copy', () => {
    const board = new OrderBoard({ readOrder: async () => undefined, capacity: 2 });
    board.note(order('a', 'pending', '2026-01-01T00:00:01Z'));
    board.note(order('b', 'pending', '2026-01-01T00:00:02Z'));
    board.note(order('a', 'paid', '2026-01-01T00:00:03Z'));
    board.note(order('a', 'pending', '2026-01-01T00:00:01Z'));
    board.note(order('c', 'pending', '2026-01-01T00:00:04Z'));
    assert.deepEqual(
      board.snapshot().map(({ id, status }) => [id, status]),
      [
        ['c', 'pending'],
        ['a', 'paid'],
      ],
    );
  });

  test('statuses only count forward; an ended order has reached everything', () => {
    assert.equal(hasReached('paid', 'awaiting_payment'), true);
    assert.equal(hasReached('pending', 'paid'), false);
    assert.equal(hasReached('cancelled', 'ready'), true);
    assert.equal(hasReached('ready', 'failed'), false);
  });
});
