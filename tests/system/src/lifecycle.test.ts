// The order lifecycle over RabbitMQ on the real stack: Checkout Session from stripe-mock, the
// signed webhook, stock committed, the kitchen, and one trace per path in Jaeger.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureStack, stackAddresses, TestSystem, waitFor, type TestOrder } from '@oms/testing';

describe('order lifecycle', () => {
  let system: TestSystem;
  let jaegerUrl: string;

  before(async () => {
    await ensureStack();
    jaegerUrl = (await stackAddresses()).JAEGER_QUERY_URL!;
    system = await TestSystem.start({
      prefix: 'life',
      env: { KITCHEN_PREP_MS: '300', KITCHEN_CONCURRENCY: '4' },
    });
  });
  after(() => system.stop());

  async function placeAwaitingPayment(customerId: string, itemId: string, quantity = 1): Promise<TestOrder> {
    const created = await system.request<TestOrder>('POST', `/v1/customers/${customerId}/orders`, {
      body: { items: [{ itemId, quantity }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return system.orderWhen(created.body, 'awaiting_payment');
  }

  test('create → awaiting_payment with a paymentUrl → signed webhook → paid → preparing → ready; stock committed', async () => {
    await system.addItem('life-item', 10, 1500);
    const order = await placeAwaitingPayment('life-customer', 'life-item', 2);
    assert.match(order.paymentUrl ?? '', /^https?:\/\//);

    const response = await system.webhook('checkout.session.completed', order).send();
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { received: true });

    const ready = await system.orderWhen(order, 'ready');
    assert.deepEqual(
      ready.history.map((h) => h.status),
      ['pending', 'awaiting_payment', 'paid', 'preparing', 'ready'],
    );
    await waitFor('the reservation to be committed', async () => {
      const stock = await system.stockOf('life-item');
      return stock.committed === 2 && stock.held === 0 ? stock : undefined;
    });
    assert.equal((await system.stockOf('life-item')).available, 8);
    const tickets = await system.ticketsWhen(`orderId=${order.id}`, (listed) =>
      listed.some((t) => t.status === 'ready'),
    );
    assert.deepEqual(
      tickets.map((t) => t.status),
      ['ready'],
    );
  });

  test('a forged or stale signature is 400 invalid_signature and changes nothing', async () => {
    await system.addItem('forged-item', 10);
    const order = await placeAwaitingPayment('forger', 'forged-item');
    for (const options of [
      { secret: 'whsec_not_ours' },
      { timestamp: Math.floor(Date.now() / 1000) - 600 },
    ]) {
      const response = await system.webhook('checkout.session.completed', order, options).send();
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_signature');
    }
    const missing = await fetch(`${system.gatewayUrl}/v1/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(missing.status, 400);
    assert.equal((await system.getOrder(order)).status, 'awaiting_payment');
  });

  test('the same webhook twice: one payment, one ticket', async () => {
    await system.addItem('twice-item', 10);
    const order = await placeAwaitingPayment('twice', 'twice-item');
    const delivery = system.webhook('checkout.session.completed', order);
    const [first, second] = await Promise.all([delivery.send(), delivery.send()]);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal((await delivery.send()).status, 200);
    const ready = await system.orderWhen(order, 'ready');
    assert.equal(ready.history.filter((h) => h.status === 'paid').length, 1);
    const tickets = await system.ticketsWhen(`orderId=${order.id}`, (listed) => listed.length > 0);
    assert.equal(tickets.length, 1);
    assert.equal((await system.stockOf('twice-item')).committed, 1);
  });

  test('a paid amount that is not the order total does not pay the order', async () => {
    await system.addItem('mismatch-item', 10, 2000);
    const order = await placeAwaitingPayment('mismatch', 'mismatch-item');
    const response = await system.webhook('checkout.session.completed', order, { amountCents: 1 }).send();
    assert.equal(response.status, 200);
    // A later, correct event still pays it: proof the mismatch was processed and did nothing.
    await system.webhook('checkout.session.completed', order).send();
    const paid = await system.orderWhen(order, 'ready');
    assert.equal(paid.history.filter((h) => h.status === 'paid').length, 1);
  });

  test('a mismatch alone leaves the order unpaid', async () => {
    await system.addItem('mismatch-only', 10, 2000);
    const order = await placeAwaitingPayment('mismatch-only', 'mismatch-only');
    const { send } = system.webhook('checkout.session.completed', order, {
      amountCents: order.totalCents + 1,
    });
    assert.equal((await send()).status, 200);
    // Redelivery of the processed event answers 200 too, and still pays nothing.
    assert.equal((await send()).status, 200);
    // The webhook is applied before it is answered, so the order's state is final here.
    assert.equal((await system.getOrder(order)).status, 'awaiting_payment');
    assert.equal((await system.stockOf('mismatch-only')).committed, 0);
  });

  test('an expired session fails the order and releases its stock', async () => {
    await system.addItem('expired-item', 10);
    const order = await placeAwaitingPayment('expired', 'expired-item', 3);
    assert.equal((await system.stockOf('expired-item')).available, 7);
    assert.equal((await system.webhook('checkout.session.expired', order).send()).status, 200);
    const failed = await system.orderWhen(order, 'failed');
    assert.deepEqual(
      failed.history.map((h) => h.status),
      ['pending', 'awaiting_payment', 'failed'],
    );
    await waitFor('stock released', async () => (await system.stockOf('expired-item')).available === 10);
    // A late paid event for a failed order changes nothing.
    assert.equal((await system.webhook('checkout.session.completed', order).send()).status, 200);
    assert.equal((await system.getOrder(order)).status, 'failed');
  });

  test("Jaeger finds the order's traces: creation through payment, payment through the kitchen", async () => {
    await system.addItem('traced-item', 10);
    const order = await placeAwaitingPayment('traced', 'traced-item');
    await system.webhook('checkout.session.completed', order).send();
    await system.orderWhen(order, 'ready');
    const services = await waitFor(
      'spans of every service under order.id',
      async () => {
        const query = new URLSearchParams({
          service: 'gateway',
          tags: JSON.stringify({ 'order.id': order.id }),
          limit: '20',
        });
        const response = await fetch(`${jaegerUrl}/api/traces?${query}`);
        const { data } = (await response.json()) as {
          data:
            { spans: { processID: string }[]; processes: Record<string, { serviceName: string }> }[] | null;
        };
        const perTrace = (data ?? []).map(
          (trace) => new Set(trace.spans.map((span) => trace.processes[span.processID]!.serviceName)),
        );
        const creation = perTrace.find((s) =>
          ['gateway', 'order', 'menu', 'stock', 'payment'].every((n) => s.has(n)),
        );
        const payment = perTrace.find((s) =>
          ['gateway', 'payment', 'order', 'stock', 'kitchen'].every((n) => s.has(n)),
        );
        return creation && payment ? { creation: [...creation], payment: [...payment] } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.ok(services.creation.includes('payment'));
    assert.ok(services.payment.includes('kitchen'));
  });
});
