import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueDeployment, waitFor } from '@oms/testing';
import { newEvent, type DomainEvent } from './event';
import {
  brokerAndDatabase,
  brokerConnectionsNamed,
  closeBrokerConnection,
  TestBuses,
  withRawChannel,
} from '../test/test-support';

/** Whether the broker has the queue (a passive declaration). */
async function queueExists(amqpUrl: string, queue: string): Promise<boolean> {
  return withRawChannel(amqpUrl, async (channel) => {
    try {
      await channel.checkQueue(queue);
      return true;
    } catch {
      return false;
    }
  });
}

/** Queues whose name starts with `prefix`, as the broker lists them. */
async function brokerQueuesNamed(prefix: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('rabbitmqctl', ['-q', 'list_queues', 'name']);
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => name.startsWith(prefix));
}

describe('MessageBus.watch against the real RabbitMQ', () => {
  let amqpUrl: string;
  let buses: TestBuses;

  before(async () => {
    ({ amqpUrl } = await brokerAndDatabase());
    buses = new TestBuses(amqpUrl, uniqueDeployment('watch'));
  });
  after(() => buses.cleanUp());

  test('every watcher sees each matching event, beside the work queue that consumes it once', async () => {
    const publisher = buses.create('order');
    const consumer = buses.create('payment');
    const consumed: string[] = [];
    consumer.subscribe('order.created', async (event) => {
      consumed.push(event.id);
    });
    const [first, second] = [buses.create('gateway-a'), buses.create('gateway-b')];
    const seen = { first: [] as DomainEvent[], second: [] as DomainEvent[] };
    first.watch(['order.*'], (event) => seen.first.push(event));
    second.watch(['order.*', 'kitchen.ticket_ready'], (event) => seen.second.push(event));
    await Promise.all([publisher.start(), consumer.start(), first.start(), second.start()]);

    const created = newEvent('order.created', { orderId: 'o-1' });
    const ready = newEvent('kitchen.ticket_ready', { orderId: 'o-1' });
    const paid = newEvent('payment.succeeded', { orderId: 'o-1' });
    // Published last on one channel: a copy routed by mistake would reach a queue before it.
    const closing = newEvent('order.closing', { orderId: 'o-1' });
    for (const event of [created, ready, paid, closing]) await publisher.publish(event);

    const ids = (events: DomainEvent[]) => events.map((event) => event.id);
    await waitFor(
      'both watchers and the consumer',
      () =>
        ids(seen.first).includes(closing.id) &&
        ids(seen.second).includes(closing.id) &&
        consumed.length === 1,
    );
    assert.deepEqual(ids(seen.first), [created.id, closing.id]);
    assert.deepEqual(ids(seen.second), [created.id, ready.id, closing.id]);
    assert.deepEqual(seen.first[0], created);
    assert.deepEqual(consumed, [created.id]);
  });

  test('the watch queue belongs to the connection: gone after close, renewed after a reconnect', async () => {
    const publisher = buses.create('order-renew');
    const watcher = buses.create('gateway-renew');
    const seen: string[] = [];
    watcher.watch(['order.#'], (event) => seen.push(event.id));
    await Promise.all([publisher.start(), watcher.start()]);
    const queues = await brokerQueuesNamed(`${buses.deployment}.gateway-renew.watch.`);
    assert.equal(queues.length, 1, 'one exclusive queue while connected');

    const name = `${buses.deployment}.gateway-renew`;
    const [original] = await brokerConnectionsNamed(name);
    assert.ok(original, `the broker lists ${name}`);
    await closeBrokerConnection(original);
    await waitFor(
      'the queue of the lost connection to go',
      async () => !(await queueExists(amqpUrl, queues[0]!)),
    );
    await waitFor(
      'a new connection watching again',
      async () =>
        watcher.connected &&
        (await brokerQueuesNamed(`${buses.deployment}.gateway-renew.watch.`)).length === 1,
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    const afterwards = newEvent('order.cancelled', { orderId: 'o-2' });
    await publisher.publish(afterwards);
    await waitFor('the copy after the reconnect', () => seen.includes(afterwards.id));

    const [renewed] = await brokerQueuesNamed(`${buses.deployment}.gateway-renew.watch.`);
    await watcher.close();
    assert.equal(await queueExists(amqpUrl, renewed!), false, 'deleted with its connection');
  });

  test('a stopped watch sees nothing more; a handler that throws does not stop the others', async () => {
    const publisher = buses.create('kitchen');
    const watcher = buses.create('gateway-stop');
    const kept: string[] = [];
    const stopped: string[] = [];
    watcher.watch(['kitchen.*'], () => {
      throw new Error('a broken observer');
    });
    watcher.watch(['kitchen.*'], (event) => kept.push(event.id));
    const stop = watcher.watch(['kitchen.*'], (event) => stopped.push(event.id));
    await Promise.all([publisher.start(), watcher.start()]);

    const first = newEvent('kitchen.ticket_started', { orderId: 'o-3' });
    await publisher.publish(first);
    await waitFor('both copies', () => kept.length === 1 && stopped.length === 1);
    await stop();
    const second = newEvent('kitchen.ticket_ready', { orderId: 'o-3' });
    await publisher.publish(second);
    await waitFor('the copy of the watch still on', () => kept.length === 2);
    assert.deepEqual(kept, [first.id, second.id]);
    assert.deepEqual(stopped, [first.id]);
  });

  test('patterns are checked when the watch is made', () => {
    const bus = buses.create('gateway-patterns');
    assert.throws(() => bus.watch([], () => undefined), /at least one/);
    assert.throws(() => bus.watch(['order..created'], () => undefined), /invalid watch pattern/);
    assert.throws(() => bus.watch(['order.cre*'], () => undefined), /invalid watch pattern/);
  });
});
