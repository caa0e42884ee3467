// RabbitMQ restarted while orders flow (a broker node owned by this test): every order still
// reaches ready, none lost, none doubled, and no service was restarted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureStack, RabbitNode, TestSystem, type TestOrder } from '@oms/testing';

describe('broker restart', () => {
  const broker = new RabbitNode(5789);
  let system: TestSystem;

  before(async () => {
    await ensureStack();
    await broker.start();
    system = await TestSystem.start({
      prefix: 'brokr',
      env: { AMQP_URL: broker.url, KITCHEN_PREP_MS: '50', KITCHEN_CONCURRENCY: '10', LOG_LEVEL: 'warn' },
    });
  });
  after(async () => {
    await system?.stop();
    await broker.destroy();
  });

  test('orders created before, during and after a broker restart all complete exactly once', async () => {
    await system.addItem('broker-item', 100);
    const create = async (i: number) => {
      const created = await system.request<TestOrder>('POST', `/v1/customers/broker-${i}/orders`, {
        body: { items: [{ itemId: 'broker-item', quantity: 1 }] },
      });
      assert.equal(created.status, 201);
      return created.body;
    };
    const orders: TestOrder[] = [];
    for (let i = 0; i < 10; i++) orders.push(await create(i));
    await broker.stop();
    // Orders are still accepted while the broker is down: their events wait in the outbox.
    for (let i = 10; i < 20; i++) orders.push(await create(i));
    await broker.start();
    for (let i = 20; i < 30; i++) orders.push(await create(i));

    for (const order of orders) {
      const awaiting = await system.orderWhen(order, 'awaiting_payment', 90_000);
      const response = await system.webhook('checkout.session.completed', awaiting).send();
      assert.equal(response.status, 200);
    }
    for (const order of orders) {
      const ready = await system.orderWhen(order, 'ready', 90_000);
      assert.deepEqual(
        ready.history.map((h) => h.status),
        ['pending', 'awaiting_payment', 'paid', 'preparing', 'ready'],
      );
    }
    const tickets = await system.ticketsWhen('status=ready', (listed) => listed.length >= 30);
    assert.equal(tickets.length, 30);
    assert.equal(new Set(tickets.map((t) => t.orderId)).size, 30);
    // An order is marked paid only once its stock is committed: every paid order is a sale.
    const stock = await system.stockOf('broker-item');
    assert.equal(stock.committed, 30);
    assert.equal(stock.available + stock.committed, 100);
    // No service had to be restarted to get here.
    assert.equal(system.instances.filter((i) => i.process.exitCode !== null).length, 0);
  });
});
