import { AsyncLocalStorage } from 'node:async_hooks';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, trace } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { connectDatabase, type Database } from '@oms/persistence';
import { uniqueDeployment, waitFor } from '@oms/testing';
import { newEvent, PermanentError, type DomainEvent } from './event';
import { Inbox } from './inbox';
import { MessageBus } from './message-bus';
import { eventsExchangeName } from './topology';
import {
  brokerAndDatabase,
  brokerConnectionsNamed,
  closeBrokerConnection,
  gate,
  recordSpans,
  TestBuses,
  testLogger,
  withRawChannel,
  withRawConfirmChannel,
} from '../test/test-support';

const spans = recordSpans();
const tracer = trace.getTracer('message-bus.test');

let amqpUrl: string;
let mongoUrl: string;

before(async () => {
  ({ amqpUrl, mongoUrl } = await brokerAndDatabase());
});

/** Publishes inside a request-like span and returns that span's trace id. */
function publishInSpan(bus: MessageBus, event: DomainEvent): Promise<string> {
  return tracer.startActiveSpan('request', async (span) => {
    try {
      await bus.publish(event);
      return span.spanContext().traceId;
    } finally {
      span.end();
    }
  });
}

describe('MessageBus against the real RabbitMQ', () => {
  let buses: TestBuses;
  let database: Database;

  before(async () => {
    const deployment = uniqueDeployment('msg');
    buses = new TestBuses(amqpUrl, deployment);
    database = await connectDatabase({ url: mongoUrl, service: 'messaging', deployment });
  });

  after(async () => {
    await buses.cleanUp();
    await database.db.dropDatabase();
    await database.close();
  });

  test('a published event reaches the subscriber, in the publisher’s trace', async () => {
    const metrics = new Registry();
    const bus = buses.create('payment', { metrics });
    const received: { event: DomainEvent; attempt: number; activeTraceId?: string }[] = [];
    bus.subscribe<{ orderId: string; total: number }>('order.created', async (event, delivery) => {
      received.push({
        event,
        attempt: delivery.attempt,
        activeTraceId: trace.getActiveSpan()?.spanContext().traceId,
      });
    });
    await bus.start();
    assert.equal(bus.connected, true);

    const event = newEvent('order.created', { orderId: 'order-1', total: 1250 });
    const traceId = await publishInSpan(bus, event);
    await waitFor('the delivery', () => received.length === 1);

    assert.deepEqual(received[0]!.event, event);
    assert.equal(received[0]!.attempt, 1);
    assert.equal(received[0]!.activeTraceId, traceId, 'the handler runs inside the consumer span');

    const queue = buses.queues('payment', 'order.created').work;
    const exchange = eventsExchangeName(buses.deployment);
    const consumerSpan = await waitFor('the consumer span', () =>
      spans.getFinishedSpans().find((s) => s.name === `${queue} process`),
    );
    const producerSpan = spans.getFinishedSpans().find((s) => s.name === `${exchange} publish`)!;
    assert.equal(producerSpan.kind, SpanKind.PRODUCER);
    assert.equal(producerSpan.spanContext().traceId, traceId);
    assert.equal(producerSpan.attributes['messaging.system'], 'rabbitmq');
    assert.equal(producerSpan.attributes['messaging.operation.type'], 'send');
    assert.equal(producerSpan.attributes['messaging.destination.name'], exchange);
    assert.equal(producerSpan.attributes['messaging.rabbitmq.destination.routing_key'], 'order.created');
    assert.equal(producerSpan.attributes['messaging.message.id'], event.id);
    assert.equal(producerSpan.attributes['order.id'], 'order-1');
    assert.equal(consumerSpan.kind, SpanKind.CONSUMER);
    assert.equal(consumerSpan.spanContext().traceId, traceId);
    assert.equal(consumerSpan.parentSpanContext?.spanId, producerSpan.spanContext().spanId);
    assert.equal(consumerSpan.attributes['messaging.operation.type'], 'process');
    assert.equal(consumerSpan.attributes['messaging.consumer.group.name'], 'payment');
    assert.equal(consumerSpan.attributes['oms.messaging.attempt'], 1);
    assert.equal(consumerSpan.attributes['order.id'], 'order-1');

    const exposition = await metrics.metrics();
    assert.match(exposition, new RegExp(`oms_messages_published_total\\{exchange="${exchange}"\\} 1`));
    await waitFor('the consumed counter', async () =>
      (await metrics.metrics()).includes(`oms_messages_consumed_total{queue="${queue}",outcome="ack"} 1`),
    );
    assert.match(
      await metrics.metrics(),
      new RegExp(`oms_message_handling_seconds_count\\{queue="${queue}"\\} 1`),
    );
  });

  test('a poison message goes through every retry tier to the dead letters while others flow; replay applies it once', async () => {
    const bus = buses.create('kitchen');
    const queues = buses.queues('kitchen', 'order.paid');
    const inbox = await Inbox.open(database.db, queues.work);
    let fixed = false;
    const attempts: { id: string; attempt: number; firstDelivery: boolean }[] = [];
    const applied: string[] = [];
    let poisonAttemptsWhenGoodApplied = -1;
    bus.subscribe<{ orderId: string; poison: boolean }>(
      'order.paid',
      async (event, { attempt, firstDelivery }) => {
        attempts.push({ id: event.id, attempt, firstDelivery });
        await inbox.once(event.id, async () => {
          if (event.data.poison && !fixed) throw new Error('the kitchen is on fire');
          if (!event.data.poison)
            poisonAttemptsWhenGoodApplied = attempts.filter((a) => a.id === poison.id).length;
          applied.push(event.id);
        });
      },
    );
    await bus.start();

    const poison = newEvent('order.paid', { orderId: 'order-poison', poison: true });
    const good = newEvent('order.paid', { orderId: 'order-good', poison: false });
    const poisonTraceId = await publishInSpan(bus, poison);
    await bus.publish(good);

    const [report] = await waitFor('the poison message in the dead letters', async () => {
      const reports = await bus.listDeadLetters(10);
      return reports[0]?.count === 1 ? reports : undefined;
    });
    assert.ok(
      poisonAttemptsWhenGoodApplied >= 1 && poisonAttemptsWhenGoodApplied < 3,
      `good handled before the poison was parked (${poisonAttemptsWhenGoodApplied})`,
    );
    assert.deepEqual(applied, [good.id]);
    assert.deepEqual(
      attempts.filter((a) => a.id === poison.id).map((a) => a.attempt),
      [1, 2, 3],
      'one first attempt and one per retry tier',
    );
    assert.equal(report!.queue, queues.dead);
    assert.deepEqual(report!.newest, [
      {
        eventId: poison.id,
        type: 'order.paid',
        lastError: 'the kitchen is on fire',
        attempts: 3,
        traceId: poisonTraceId,
      },
    ]);
    // Listing hands the messages back.
    assert.equal((await bus.listDeadLetters(10))[0]!.count, 1);

    fixed = true;
    assert.equal(await bus.replayDeadLetters(queues.dead), 1);
    await waitFor('the replayed event applied', () => applied.includes(poison.id));
    assert.equal(
      await bus.replayDeadLetters(queues.work),
      0,
      'the work queue name is accepted too; nothing left',
    );
    await assert.rejects(
      bus.replayDeadLetters('someone.else.dead'),
      /unknown dead-letter queue someone.else.dead/,
    );

    // Delivered once more (as a crash before the ack would): the inbox skips it.
    await bus.publish(poison);
    await waitFor('the duplicate delivery', () => attempts.filter((a) => a.id === poison.id).length === 5);
    assert.deepEqual(applied, [good.id, poison.id]);
    assert.deepEqual(
      attempts.filter((a) => a.id === poison.id).map((a) => a.attempt),
      [1, 2, 3, 1, 1],
      'a replay starts over with a full set of attempts',
    );
    assert.deepEqual(
      attempts.filter((a) => a.id === poison.id).map((a) => a.firstDelivery),
      [true, false, false, false, true],
      'retries and the replay may repeat an applied event; a copy published again looks new to the broker',
    );
  });

  test('a retry reaches only the consumer that failed', async () => {
    const failing = buses.create('stock');
    const healthy = buses.create('kitchen-audit');
    const failingAttempts: number[] = [];
    const healthyDeliveries: string[] = [];
    failing.subscribe('order.cancelled', async (_event, { attempt }) => {
      failingAttempts.push(attempt);
      if (attempt === 1) throw new Error('stock is busy');
    });
    healthy.subscribe('order.cancelled', async (event) => {
      healthyDeliveries.push(event.id);
    });
    await Promise.all([failing.start(), healthy.start()]);

    const event = newEvent('order.cancelled', { orderId: 'order-2' });
    await failing.publish(event);
    await waitFor('the failing consumer to succeed on its retry', () => failingAttempts.length === 2);
    assert.deepEqual(failingAttempts, [1, 2]);
    assert.deepEqual(healthyDeliveries, [event.id]);
    const healthyQueues = buses.queues('kitchen-audit', 'order.cancelled');
    await withRawChannel(amqpUrl, async (channel) => {
      for (const queue of [
        healthyQueues.work,
        ...healthyQueues.retries.map((t) => t.queue),
        healthyQueues.dead,
      ]) {
        assert.equal((await channel.checkQueue(queue)).messageCount, 0, `${queue} is empty`);
      }
    });
  });

  test('an event failing because a dependency is away outlasts the tiers, until its budget is spent', async () => {
    class DependencyAway extends Error {}
    const isDependencyAway = (error: unknown) => error instanceof DependencyAway;
    // Two tiers (100 ms, 200 ms) on these test buses: five failures in a row outlast them.
    const patient = buses.create('order', { isDependencyAway, dependencyAwayBudgetMs: 60_000 });
    const impatient = buses.create('order-audit', { isDependencyAway, dependencyAwayBudgetMs: 500 });
    const poisoned = buses.create('order-report', { isDependencyAway, dependencyAwayBudgetMs: 60_000 });
    const patientAttempts: number[] = [];
    const impatientAttempts: number[] = [];
    const poisonedAttempts: number[] = [];
    patient.subscribe('payment.succeeded', async (_event, { attempt }) => {
      patientAttempts.push(attempt);
      if (attempt <= 5) throw new DependencyAway('stock is unavailable (circuit open)');
    });
    impatient.subscribe('payment.succeeded', async (_event, { attempt }) => {
      impatientAttempts.push(attempt);
      throw new DependencyAway('connect ECONNREFUSED 127.0.0.1:27017');
    });
    poisoned.subscribe('payment.succeeded', async (_event, { attempt }) => {
      poisonedAttempts.push(attempt);
      throw new Error('cannot read properties of undefined');
    });
    await Promise.all([patient.start(), impatient.start(), poisoned.start()]);

    const event = newEvent('payment.succeeded', { orderId: 'order-away' });
    await patient.publish(event);

    await waitFor('the event applied once the dependency is back', () => patientAttempts.includes(6));
    assert.deepEqual(patientAttempts, [1, 2, 3, 4, 5, 6], 'retried past the two tiers, then applied');

    const deadLettered = async (bus: MessageBus, service: string) => {
      const dead = buses.queues(service, 'payment.succeeded').dead;
      const reports = await bus.listDeadLetters(10);
      return reports.find((report) => report.queue === dead && report.count === 1);
    };
    const poisonReport = await waitFor('the poison in the dead letters', () =>
      deadLettered(poisoned, 'order-report'),
    );
    assert.deepEqual(
      poisonedAttempts,
      [1, 2, 3],
      'a failure that is not a dependency away gets the tiers only',
    );
    assert.equal(poisonReport.newest[0]!.lastError, 'cannot read properties of undefined');

    const awayReport = await waitFor('the event in the dead letters once its budget is spent', () =>
      deadLettered(impatient, 'order-audit'),
    );
    assert.ok(
      impatientAttempts.length > 3,
      `kept retrying past the tiers while within its budget (${impatientAttempts.length} attempts)`,
    );
    assert.equal(awayReport.newest[0]!.attempts, impatientAttempts.length);
    assert.equal(
      (await patient.listDeadLetters(10)).find((r) => r.count > 0),
      undefined,
      'nothing of the patient consumer was dead-lettered',
    );
  });

  test('a PermanentError and a body that is not an event go straight to the dead letters', async () => {
    const bus = buses.create('payment-audit');
    const attempts: string[] = [];
    bus.subscribe('order.expired', async (event) => {
      attempts.push(event.id);
      throw new PermanentError('order 3 does not exist');
    });
    await bus.start();

    const event = newEvent('order.expired', { orderId: 'order-3' });
    await bus.publish(event);
    await withRawConfirmChannel(amqpUrl, async (channel) => {
      const exchange = eventsExchangeName(buses.deployment);
      channel.publish(exchange, 'order.expired', Buffer.from('{not json'), {
        messageId: 'broken-1',
        type: 'order.expired',
        persistent: true,
      });
      channel.publish(exchange, 'order.expired', Buffer.from('{"hello":"world"}'), {
        messageId: 'broken-2',
        persistent: true,
      });
      await channel.waitForConfirms();
    });

    const [report] = await waitFor('three dead letters', async () => {
      const reports = await bus.listDeadLetters(10);
      return reports[0]?.count === 3 ? reports : undefined;
    });
    assert.deepEqual(attempts, [event.id], 'malformed bodies never reach the handler');
    assert.deepEqual(
      report!.newest.map(({ eventId, attempts: n, lastError }) => ({ eventId, attempts: n, lastError })),
      [
        {
          eventId: 'broken-2',
          attempts: 1,
          lastError: 'message body is not a DomainEvent (id, type, version, occurredAt, data)',
        },
        { eventId: 'broken-1', attempts: 1, lastError: 'message body is not JSON' },
        { eventId: event.id, attempts: 1, lastError: 'order 3 does not exist' },
      ],
    );
    assert.equal((await bus.listDeadLetters(1))[0]!.newest.length, 1, 'limit bounds the list');
  });

  test('bus.on: a bad payload and a declared domain error are dead-lettered; a copy published again is recorded once', async () => {
    const inboxes: string[] = [];
    const bus = buses.create('kitchen-on', {
      prefetch: 1, // one delivery at a time: the duplicate is handled before the ones after it
      inbox: (consumer) => {
        inboxes.push(consumer);
        return Inbox.open(database.db, consumer);
      },
    });
    class OrderGone extends Error {}
    const applied: string[] = [];
    const isPaid = (data: unknown): data is { orderId: string } =>
      typeof (data as { orderId?: unknown } | null)?.orderId === 'string';
    bus.on(
      'order.paid',
      isPaid,
      async ({ orderId }) => {
        applied.push(orderId);
        if (orderId === 'gone') throw new OrderGone(`order ${orderId} is gone`);
      },
      { isPermanent: (error) => error instanceof OrderGone },
    );
    await bus.start();

    const paid = newEvent('order.paid', { orderId: 'order-7' });
    await bus.publish(paid);
    await waitFor('the first delivery applied', () => applied.length === 1);
    // The same event again, as after a relay crash between publishing and clearing its outbox: the
    // broker sees a new message, so the handler runs again (handlers are idempotent by their
    // conditional writes; see inbox.ts), and the inbox keeps one record of it.
    await bus.publish(paid);
    await bus.publish(newEvent('order.paid', { orderId: 42 }));
    await bus.publish(newEvent('order.paid', { orderId: 'gone' }));

    const [report] = await waitFor('two dead letters', async () => {
      const reports = await bus.listDeadLetters(10);
      return reports[0]?.count === 2 ? reports : undefined;
    });
    assert.deepEqual(
      report!.newest
        .map(({ attempts, lastError }) => ({ attempts, lastError }))
        .sort((a, b) => a.lastError!.localeCompare(b.lastError!)),
      [
        { attempts: 1, lastError: 'order gone is gone' },
        { attempts: 1, lastError: 'order.paid without a valid payload' },
      ],
    );
    assert.deepEqual(applied.sort(), ['gone', 'order-7', 'order-7'], 'never for a bad payload');
    assert.equal(
      await database.db
        .collection('inbox')
        .countDocuments({ consumer: 'kitchen-on.order.paid', eventId: paid.id }),
      1,
    );
    assert.deepEqual([...new Set(inboxes)], ['kitchen-on.order.paid'], 'the inbox is keyed <service>.<type>');
  });

  test('bus.on with idempotentWrite: the handler alone guards repeats, and no inbox is opened or written', async () => {
    const inboxes: string[] = [];
    const bus = buses.create('order-guarded', {
      prefetch: 1,
      inbox: (consumer) => {
        inboxes.push(consumer);
        return Inbox.open(database.db, consumer);
      },
    });
    // A state-machine guard, as the order service writes it: only `pending` moves to `paid`.
    const orders = database.db.collection<{ _id: string; status: string }>('guarded_orders');
    await orders.insertOne({ _id: 'order-9', status: 'pending' });
    let deliveries = 0;
    bus.on(
      'order.paid',
      (data: unknown): data is { orderId: string } =>
        typeof (data as { orderId?: unknown } | null)?.orderId === 'string',
      async ({ orderId }) => {
        deliveries += 1;
        await orders.updateOne({ _id: orderId, status: 'pending' }, { $set: { status: 'paid' } });
      },
      { idempotentWrite: true },
    );
    await bus.start();

    const paid = newEvent('order.paid', { orderId: 'order-9' });
    await bus.publish(paid);
    await bus.publish(paid);
    await waitFor('both copies handled', () => deliveries === 2);
    assert.equal((await orders.findOne({ _id: 'order-9' }))?.status, 'paid');
    assert.deepEqual(inboxes, [], 'no inbox opened');
    assert.equal(
      await database.db.collection('inbox').countDocuments({ consumer: 'order-guarded.order.paid' }),
      0,
      'no inbox record written',
    );
  });

  test('a consumer killed mid-handling: the message is redelivered and applied once', async () => {
    const queues = buses.queues('kitchen-killed', 'order.paid');
    const inbox = await Inbox.open(database.db, queues.work);
    const applied: string[] = [];
    const apply = (id: string) => async () => {
      applied.push(id);
    };

    const victim = buses.create('kitchen-killed', { shutdownTimeoutMs: 100 });
    const held = gate();
    const started = gate();
    let victimOutcome: Promise<boolean> | undefined;
    victim.subscribe('order.paid', async (event) => {
      started.open();
      // The process "dies" here: the handler never finishes before its connection is gone.
      await held.opened;
      victimOutcome = inbox.once(event.id, apply(event.id));
      await victimOutcome;
    });
    await victim.start();
    const event = newEvent('order.paid', { orderId: 'order-4' });
    await victim.publish(event);
    await started.opened;
    await victim.close();

    const successor = buses.create('kitchen-killed');
    const redeliveries: boolean[] = [];
    successor.subscribe('order.paid', async (redelivered, { firstDelivery }) => {
      assert.equal(firstDelivery, false, 'the broker marks the redelivery');
      redeliveries.push(await inbox.once(redelivered.id, apply(redelivered.id), { firstDelivery }));
    });
    await successor.start();
    await waitFor('the redelivery applied', () => redeliveries.length === 1);
    assert.deepEqual(redeliveries, [true]);

    // The old handler wakes up late (as a zombie would): the inbox stops it from applying twice.
    held.open();
    await waitFor('the late handler', () => victimOutcome !== undefined);
    assert.equal(await victimOutcome, false);
    assert.deepEqual(applied, [event.id]);
  });

  test('survives the broker closing its connection: reconnects, re-declares, consumes and publishes again', async () => {
    const bus = buses.create('order-reconnect');
    const received: string[] = [];
    bus.subscribe('order.ready', async (event) => {
      received.push(event.id);
    });
    await bus.start();
    const before = newEvent('order.ready', { orderId: 'order-5' });
    await bus.publish(before);
    await waitFor('the first delivery', () => received.includes(before.id));

    const name = `${buses.deployment}.order-reconnect`;
    const [original] = await brokerConnectionsNamed(name);
    assert.ok(original, `the broker lists ${name}`);
    await closeBrokerConnection(original);
    await waitFor(
      'a new connection',
      async () => {
        const current = await brokerConnectionsNamed(name);
        return current.length === 1 && current[0] !== original && bus.connected;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );

    const afterwards = newEvent('order.ready', { orderId: 'order-6' });
    await bus.publish(afterwards);
    await waitFor('the delivery after the reconnect', () => received.includes(afterwards.id));
    assert.deepEqual(received, [before.id, afterwards.id]);
  });

  test('a handler runs outside the async context that opened the connection', async () => {
    // as when a connection is (re)opened while a gRPC call is being served
    const servingCall = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const bus = buses.create('order-context');
    bus.subscribe('order.ready', async () => {
      seen.push(servingCall.getStore());
    });
    await servingCall.run('a gRPC call with its deadline', () => bus.start());
    await bus.publish(newEvent('order.ready', { orderId: 'order-context' }));
    await waitFor('the delivery', () => seen.length === 1);
    assert.deepEqual(seen, [undefined]);
  });

  test('a queue deleted under a running consumer is declared again and consumed', async () => {
    const bus = buses.create('order-redeclare');
    const received: string[] = [];
    bus.subscribe('order.failed', async (event) => {
      received.push(event.id);
    });
    await bus.start();
    const queues = buses.queues('order-redeclare', 'order.failed');
    await withRawChannel(amqpUrl, (channel) => channel.deleteQueue(queues.work));
    await waitFor(
      'the queue back with its consumer',
      () =>
        withRawChannel(
          amqpUrl,
          async (channel) => (await channel.checkQueue(queues.work)).consumerCount === 1,
        ),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    const event = newEvent('order.failed', { orderId: 'order-7' });
    await bus.publish(event);
    await waitFor('the delivery', () => received.includes(event.id));
  });

  test('publish rejects at once while not connected; subscribe refuses wildcards and doubles', async () => {
    const bus = new MessageBus({
      url: amqpUrl,
      deployment: buses.deployment,
      service: 'idle',
      logger: testLogger(),
    });
    assert.equal(bus.connected, false);
    await assert.rejects(bus.publish(newEvent('order.created', {})), /not connected/);
    await assert.rejects(bus.listDeadLetters(5), /not connected/);
    assert.throws(() => bus.subscribe('order.*', async () => undefined), /invalid event type/);
    bus.subscribe('order.created', async () => undefined);
    assert.throws(() => bus.subscribe('order.created', async () => undefined), /already subscribes/);
    await bus.close();
  });
});
