// Orders through the gateway on the real stack: no overselling under concurrency (one and two
// stock instances), idempotency keys, cancel and expiry releasing stock, customer isolation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureStack, TestSystem, waitFor } from '@oms/testing';

type Order = {
  id: string;
  status: string;
  totalCents: number;
  customerId: string;
  items: { itemId: string; quantity: number }[];
};

describe('orders through the gateway', () => {
  let system: TestSystem;

  before(async () => {
    await ensureStack();
    system = await TestSystem.start({
      prefix: 'ord',
      services: ['menu', 'stock', 'order', 'gateway'],
      env: { RESERVATION_TTL_SECONDS: '900' },
    });
  });
  after(() => system.stop());

  const placeOrder = (
    customer: string,
    items: { itemId: string; quantity: number }[],
    headers: Record<string, string> = {},
  ) =>
    system.request<Order & { error?: { code: string; details?: unknown[] } }>(
      'POST',
      `/v1/customers/${customer}/orders`,
      {
        body: { items },
        headers,
      },
    );

  async function oversellRound(itemId: string): Promise<void> {
    await system.addItem(itemId, 10);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => placeOrder(`buyer-${i}`, [{ itemId, quantity: 1 }])),
    );
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    assert.equal(created.length, 10, `statuses: ${results.map((r) => r.status).join(',')}`);
    assert.equal(refused.length, 40);
    for (const r of refused) {
      assert.equal(r.body.error?.code, 'out_of_stock');
      assert.deepEqual(r.body.error?.details, [{ itemId, requested: 1, available: 0 }]);
    }
    assert.equal(await system.available(itemId), 0);
  }

  test('50 concurrent orders against stock 10: exactly 10 created, 40 out_of_stock, availability 0', async () => {
    await oversellRound('oversell-one');
  });

  test('the same with two stock instances', async () => {
    await system.add('stock');
    await waitFor('two stock instances known to the gateway', async () => {
      const ready = await system.request<{ dependencies: Record<string, unknown> }>('GET', '/readyz');
      return ready.status === 200;
    });
    assert.equal(system.running('stock').length, 2);
    await oversellRound('oversell-two');
  });

  test('prices and totals come from the menu; duplicate lines are merged', async () => {
    await system.addItem('priced', 100, 1234);
    const { status, body, headers } = await placeOrder('pricing', [
      { itemId: 'priced', quantity: 2 },
      { itemId: 'priced', quantity: 1 },
    ]);
    assert.equal(status, 201);
    assert.equal(body.totalCents, 3 * 1234);
    assert.deepEqual(
      body.items.map((i) => [i.itemId, i.quantity]),
      [['priced', 3]],
    );
    assert.equal(headers.get('location'), `/v1/customers/pricing/orders/${body.id}`);
    assert.equal(await system.available('priced'), 97);
  });

  test('an unknown item is 400 unknown_item and reserves nothing', async () => {
    await system.addItem('known', 5);
    const { status, body } = await placeOrder('unknown', [
      { itemId: 'known', quantity: 1 },
      { itemId: 'ghost', quantity: 1 },
    ]);
    assert.equal(status, 400);
    assert.equal(body.error?.code, 'unknown_item');
    assert.deepEqual(body.error?.details, [{ itemId: 'ghost' }]);
    assert.equal(await system.available('known'), 5);
  });

  test('all lines or none: one short line reserves nothing', async () => {
    await system.addItem('plenty', 50);
    await system.addItem('scarce', 1);
    const { status, body } = await placeOrder('allornone', [
      { itemId: 'plenty', quantity: 5 },
      { itemId: 'scarce', quantity: 2 },
    ]);
    assert.equal(status, 409);
    assert.deepEqual(body.error?.details, [{ itemId: 'scarce', requested: 2, available: 1 }]);
    assert.equal(await system.available('plenty'), 50);
    assert.equal(await system.available('scarce'), 1);
  });

  test('Idempotency-Key: replay, body mismatch, and 10 concurrent requests create one order', async () => {
    await system.addItem('idem', 100);
    const first = await placeOrder('idem-customer', [{ itemId: 'idem', quantity: 2 }], {
      'idempotency-key': 'key-1',
    });
    assert.equal(first.status, 201);
    const replay = await placeOrder('idem-customer', [{ itemId: 'idem', quantity: 2 }], {
      'idempotency-key': 'key-1',
    });
    assert.equal(replay.status, 201);
    assert.equal(replay.body.id, first.body.id);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    const mismatch = await placeOrder('idem-customer', [{ itemId: 'idem', quantity: 3 }], {
      'idempotency-key': 'key-1',
    });
    assert.equal(mismatch.status, 422);
    assert.equal(mismatch.body.error?.code, 'idempotency_key_reused');
    // The key is scoped to the customer: another customer's same key is another order.
    const other = await placeOrder('idem-other', [{ itemId: 'idem', quantity: 2 }], {
      'idempotency-key': 'key-1',
    });
    assert.equal(other.status, 201);
    assert.notEqual(other.body.id, first.body.id);

    const concurrent = await Promise.all(
      Array.from({ length: 10 }, () =>
        placeOrder('idem-burst', [{ itemId: 'idem', quantity: 1 }], { 'idempotency-key': 'burst' }),
      ),
    );
    assert.deepEqual(
      concurrent.map((r) => r.status),
      Array(10).fill(201),
    );
    assert.equal(new Set(concurrent.map((r) => r.body.id)).size, 1);
    const listed = await system.request<{ orders: Order[] }>('GET', '/v1/customers/idem-burst/orders');
    assert.equal(listed.body.orders.length, 1);
    assert.equal(await system.available('idem'), 100 - 2 - 2 - 1);
  });

  test('cancel releases the stock and is idempotent; another customer can neither read nor cancel', async () => {
    await system.addItem('cancel-me', 5);
    const created = await placeOrder('canceller', [{ itemId: 'cancel-me', quantity: 3 }]);
    assert.equal(await system.available('cancel-me'), 2);
    const path = `/v1/customers/canceller/orders/${created.body.id}`;

    assert.equal(
      (await system.request('GET', `/v1/customers/intruder/orders/${created.body.id}`)).status,
      404,
    );
    assert.equal(
      (await system.request('POST', `/v1/customers/intruder/orders/${created.body.id}/cancel`)).status,
      404,
    );

    const cancelled = await system.request<Order & { history: { status: string }[] }>(
      'POST',
      `${path}/cancel`,
    );
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.deepEqual(
      cancelled.body.history.map((h) => h.status),
      ['pending', 'cancelled'],
    );
    assert.equal(await system.available('cancel-me'), 5);
    const again = await system.request<Order>('POST', `${path}/cancel`);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'cancelled');
    assert.equal(await system.available('cancel-me'), 5);
  });

  test('many gets at once: each customer reads its own orders and gets 404 for any other', async () => {
    // Gets that arrive together go to the order service as one GetOrders (apps/gateway order-reads).
    await system.addItem('read-many', 100);
    const customers = ['reader-a', 'reader-b', 'reader-c'];
    const placed = await Promise.all(
      customers.flatMap((customer) =>
        [1, 2].map(async () => {
          const { status, body } = await placeOrder(customer, [{ itemId: 'read-many', quantity: 1 }]);
          assert.equal(status, 201);
          return { customer, id: body.id };
        }),
      ),
    );
    const asks = [1, 2, 3, 4].flatMap((round) =>
      placed.map(({ customer, id }) => {
        const other = customers.find((c) => c !== customer)!;
        if (round === 2) return { customer: other, id, expected: 404 };
        if (round === 3) return { customer, id: `${id}-missing`, expected: 404 };
        return { customer, id, expected: 200 };
      }),
    );
    const answers = await Promise.all(
      asks.map(({ customer, id }) => system.request<Order>('GET', `/v1/customers/${customer}/orders/${id}`)),
    );
    answers.forEach((answer, i) => {
      const { customer, id, expected } = asks[i]!;
      assert.equal(answer.status, expected, `${customer} reading ${id}`);
      if (expected === 200) assert.deepEqual([answer.body.customerId, answer.body.id], [customer, id]);
    });
  });

  test('orders are listed newest first with a cursor', async () => {
    await system.addItem('listed', 100);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await placeOrder('lister', [{ itemId: 'listed', quantity: 1 }])).body.id);
    const first = await system.request<{ orders: Order[]; nextCursor: string | null }>(
      'GET',
      '/v1/customers/lister/orders?limit=2',
    );
    assert.deepEqual(
      first.body.orders.map((o) => o.id),
      [ids[4], ids[3]],
    );
    const second = await system.request<{ orders: Order[]; nextCursor: string | null }>(
      'GET',
      `/v1/customers/lister/orders?limit=3&cursor=${encodeURIComponent(first.body.nextCursor!)}`,
    );
    assert.deepEqual(
      second.body.orders.map((o) => o.id),
      [ids[2], ids[1], ids[0]],
    );
    assert.equal(second.body.nextCursor, null);
  });
});

describe('reservation expiry', () => {
  let system: TestSystem;

  before(async () => {
    await ensureStack();
    system = await TestSystem.start({
      prefix: 'exp',
      services: ['menu', 'stock', 'order', 'gateway'],
      env: { RESERVATION_TTL_SECONDS: '1', RESERVATION_SWEEP_MS: '100', ORDER_SWEEP_MS: '100' },
    });
  });
  after(() => system.stop());

  test('an unpaid order past the reservation TTL fails and its stock is released', async () => {
    await system.addItem('expiring', 10);
    const created = await system.request<Order>('POST', '/v1/customers/slow-payer/orders', {
      body: { items: [{ itemId: 'expiring', quantity: 4 }] },
    });
    assert.equal(created.status, 201);
    assert.equal(await system.available('expiring'), 6);
    const failed = await waitFor('the order to fail', async () => {
      const { body } = await system.request<Order & { history: { status: string }[] }>(
        'GET',
        `/v1/customers/slow-payer/orders/${created.body.id}`,
      );
      return body.status === 'failed' ? body : undefined;
    });
    assert.deepEqual(
      failed.history.map((h) => h.status),
      ['pending', 'failed'],
    );
    await waitFor('the stock to be released', async () => (await system.available('expiring')) === 10);
    const cancel = await system.request<{ error: { code: string } }>(
      'POST',
      `/v1/customers/slow-payer/orders/${created.body.id}/cancel`,
    );
    assert.equal(cancel.status, 409);
    assert.equal(cancel.body.error.code, 'not_cancellable');
  });
});
