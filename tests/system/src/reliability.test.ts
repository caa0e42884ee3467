// Reliability of the lifecycle on the real stack: a stopped kitchen catches up without doing any
// ticket twice, a Stripe outage leaves orders pending until it is back, 200 orders all reach
// ready with stock conserved, and dead letters are visible to the admin API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { ensureStack, TestSystem, waitFor, type TestOrder } from '@oms/testing';

async function pool<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

/** Placing and paying orders through the gateway, as the tests below do many times. */
function lifecycleHelpers(system: () => TestSystem) {
  const create = async (customerId: string, itemId: string) => {
    const created = await system().request<TestOrder>('POST', `/v1/customers/${customerId}/orders`, {
      body: { items: [{ itemId, quantity: 1 }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  };
  const pay = async (order: TestOrder) => {
    const response = await system().webhook('checkout.session.completed', order).send();
    assert.equal(response.status, 200);
  };
  return { create, pay };
}

describe('kitchen outage and volume', () => {
  let system: TestSystem;
  const { create, pay } = lifecycleHelpers(() => system);

  before(async () => {
    await ensureStack();
    system = await TestSystem.start({
      prefix: 'rel',
      env: { KITCHEN_PREP_MS: '50', KITCHEN_CONCURRENCY: '20', LOG_LEVEL: 'warn' },
    });
  });
  after(() => system.stop());

  test('a stopped kitchen: paid orders wait in its queue and are all prepared once it is back, none twice', async () => {
    await system.addItem('outage-item', 100);
    const kitchen = system.running('kitchen')[0]!;
    assert.equal(await kitchen.stop('SIGTERM'), 0);
    const orders = await pool(
      Array.from({ length: 5 }, (_, i) => `kitchen-wait-${i}`),
      5,
      async (customer) => {
        const order = await create(customer, 'outage-item');
        return system.orderWhen(order, 'awaiting_payment');
      },
    );
    await pool(orders, 5, pay);
    for (const order of orders) await system.orderWhen(order, 'paid');

    await system.add('kitchen');
    for (const order of orders) {
      const ready = await system.orderWhen(order, 'ready');
      assert.deepEqual(
        ready.history.map((h) => h.status),
        ['pending', 'awaiting_payment', 'paid', 'preparing', 'ready'],
      );
      const tickets = await system.ticketsWhen(`orderId=${order.id}`, (listed) => listed.length > 0);
      assert.equal(tickets.length, 1);
    }
  });

  test('200 orders through the whole lifecycle: every one ready, none lost or duplicated, stock conserved', async () => {
    const initial = 1000;
    await system.addItem('volume-item', initial);
    const customers = Array.from({ length: 200 }, (_, i) => `volume-${i % 20}`);
    const created = await pool(customers, 16, (customer) => create(customer, 'volume-item'));
    assert.equal(new Set(created.map((o) => o.id)).size, 200);
    const awaiting = await pool(created, 16, (order) => system.orderWhen(order, 'awaiting_payment', 60_000));
    await pool(awaiting, 16, pay);
    const ready = await pool(created, 16, (order) => system.orderWhen(order, 'ready', 60_000));
    for (const order of ready) {
      assert.deepEqual(
        order.history.map((h) => h.status),
        ['pending', 'awaiting_payment', 'paid', 'preparing', 'ready'],
      );
    }
    const volumeIds = new Set(created.map((o) => o.id));
    const tickets = await system.ticketsWhen(
      'status=ready',
      (listed) => listed.filter((t) => volumeIds.has(t.orderId)).length >= 200,
    );
    const volumeTickets = tickets.filter((t) => volumeIds.has(t.orderId));
    assert.equal(volumeTickets.length, 200);
    assert.equal(new Set(volumeTickets.map((t) => t.orderId)).size, 200);
    const stock = await waitFor('every reservation committed', async () => {
      const current = await system.stockOf('volume-item');
      return current.committed === 200 ? current : undefined;
    });
    assert.equal(stock.held, 0);
    assert.equal(stock.available + stock.committed, initial);
  });

  test('dead letters are listed per queue for the admin, and a replay answers how many moved', async () => {
    const unauthorized = await system.request('GET', '/v1/admin/dead-letters');
    assert.equal(unauthorized.status, 401);
    const listed = await system.request<{ queues: { queue: string; count: number }[] }>(
      'GET',
      '/v1/admin/dead-letters',
      {
        admin: true,
      },
    );
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const names = listed.body.queues.map((q) => q.queue);
    assert.ok(
      names.some((name) => name.endsWith('.payment.order.created.dead')),
      names.join(','),
    );
    assert.ok(listed.body.queues.every((q) => q.count === 0));
    const queue = names.find((name) => name.endsWith('.payment.order.created.dead'))!;
    const replay = await system.request<{ replayed: number }>(
      'POST',
      `/v1/admin/dead-letters/${encodeURIComponent(queue)}/replay`,
      {
        admin: true,
      },
    );
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.replayed, 0);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

describe('Stripe outage', () => {
  let system: TestSystem;
  let stripeMock: ChildProcess | undefined;
  let port: number;
  const stripeBinary = execFileSync(
    'bash',
    [resolve(__dirname, '../../../tools/stack/provision.sh'), 'stripe-mock'],
    { encoding: 'utf8' },
  ).trim();
  const { create } = lifecycleHelpers(() => system);

  const startStripeMock = async () => {
    stripeMock = spawn(
      stripeBinary,
      ['-http-addr', `127.0.0.1:${port}`, '-https-addr', `127.0.0.1:${await freePort()}`],
      { stdio: 'ignore' },
    );
    await waitFor('stripe-mock to answer', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/v1/customers`, {
        headers: { authorization: 'Bearer sk_test_123' },
      });
      return response.status === 200;
    });
  };

  before(async () => {
    await ensureStack();
    port = await freePort();
    await startStripeMock();
    system = await TestSystem.start({
      prefix: 'stripe',
      services: ['menu', 'stock', 'order', 'payment', 'gateway'],
      env: { STRIPE_API_URL: `http://127.0.0.1:${port}`, PAYMENT_RETRY_SWEEP_MS: '200' },
    });
  });
  after(async () => {
    stripeMock?.kill();
    await system.stop();
  });

  test('while Stripe is unreachable orders stay pending, and get their session once it is back', async () => {
    await system.addItem('stripe-item', 100);
    stripeMock!.kill();
    await new Promise((done) => stripeMock!.once('exit', done));
    const orders = await pool(['s1', 's2', 's3'], 3, (customer) => create(customer, 'stripe-item'));
    // Observed over two seconds of outage: no order moves, none fails.
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      for (const order of orders) assert.equal((await system.getOrder(order)).status, 'pending');
      await new Promise((done) => setTimeout(done, 200));
    }
    await startStripeMock();
    for (const order of orders) {
      const awaiting = await system.orderWhen(order, 'awaiting_payment', 60_000);
      assert.match((await system.getOrder(awaiting)).status, /awaiting_payment/);
    }
  });
});
