import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { MongoClient, type Collection } from 'mongodb';
import { Registry } from 'prom-client';
import { connectDatabase, VersionedCollection, type Database } from '@oms/persistence';
import { uniqueDeployment, waitFor } from '@oms/testing';
import { newEvent, type DomainEvent } from './event';
import { Inbox } from './inbox';
import type { MessageBus } from './message-bus';
import { OutboxDocuments } from './outbox-collection';
import {
  OutboxRelay,
  stageEvents,
  stageEventsForInsert,
  type EventPublisher,
  type OutboxFields,
} from './outbox';
import { brokerAndDatabase, recordSpans, TestBuses, testLogger } from '../test/test-support';

const spans = recordSpans();

interface Order extends OutboxFields {
  _id: string;
  status: string;
  v: number;
}

describe('the outbox against the real FerretDB and RabbitMQ', () => {
  let buses: TestBuses;
  let database: Database;
  let orders: Collection<Order>;
  let versioned: VersionedCollection<Order>;
  let bus: MessageBus;
  const received: DomainEvent[] = [];

  before(async () => {
    const { amqpUrl, mongoUrl } = await brokerAndDatabase();
    const deployment = uniqueDeployment('outbox');
    buses = new TestBuses(amqpUrl, deployment);
    database = await connectDatabase({ url: mongoUrl, service: 'outbox', deployment });
    orders = database.db.collection<Order>('orders');
    versioned = new VersionedCollection(orders);
    bus = buses.create('order');
    const listener = buses.create('listener');
    for (const type of ['order.created', 'order.paid', 'order.ready']) {
      listener.subscribe(type, async (event) => {
        received.push(event);
      });
    }
    await Promise.all([bus.start(), listener.start()]);
  });

  after(async () => {
    await buses.cleanUp();
    await database.db.dropDatabase();
    await database.close();
  });

  function relay(
    publisher: EventPublisher = bus,
    metrics?: Registry,
    handOffGraceMs?: number,
  ): OutboxRelay<Order> {
    return new OutboxRelay({
      collection: orders,
      bus: publisher,
      logger: testLogger(),
      intervalMs: 20,
      metrics,
      handOffGraceMs,
    });
  }

  const receivedIds = () => received.map((event) => event.id);

  test('events staged with a state change and never relayed ("crash") are published by a relay started later, once', async () => {
    await orders.insertOne({ _id: 'order-1', status: 'new', v: 0 });
    const created = newEvent('order.created', { orderId: 'order-1' });
    const stagingTraceId = await trace
      .getTracer('outbox.test')
      .startActiveSpan('POST /orders', async (span) => {
        await versioned.updateOne(
          { _id: 'order-1' },
          { $set: { status: 'pending', ...stageEvents([created]).$set } },
        );
        span.end();
        return span.spanContext().traceId;
      });
    const staged = await orders.findOne({ _id: 'order-1' });
    assert.equal(staged?.status, 'pending');
    assert.equal(staged?.outboxPending, true);
    assert.deepEqual(Object.keys(staged?.outbox ?? {}), [created.id]);

    // The process that staged it "died" here. A new one starts its relay:
    const restarted = relay();
    assert.equal(await restarted.backlog(), 1);
    assert.equal(await restarted.relayOnce(), 1);
    assert.equal(await restarted.relayOnce(), 0, 'a second pass publishes nothing');
    await waitFor('the delivery', () => receivedIds().includes(created.id));
    assert.deepEqual(
      received.find((event) => event.id === created.id),
      created,
      'the trace context stays out of the event',
    );

    const relayed = await orders.findOne({ _id: 'order-1' });
    assert.deepEqual(relayed?.outbox, {});
    assert.equal(relayed?.outboxPending, undefined);
    assert.equal(await restarted.backlog(), 0);

    const publishSpan = spans
      .getFinishedSpans()
      .find(
        (span) => span.attributes['messaging.message.id'] === created.id && span.name.endsWith('publish'),
      );
    assert.equal(
      publishSpan?.spanContext().traceId,
      stagingTraceId,
      'the relay publishes in the trace of the request that staged the event',
    );
  });

  test('events of one document go out oldest first', async () => {
    const paid = newEvent('order.paid', { orderId: 'order-2' });
    const ready = {
      ...newEvent('order.ready', { orderId: 'order-2' }),
      occurredAt: new Date(Date.now() + 1000).toISOString(),
    };
    // Staged newest first, in two writes, as two concurrent requests could.
    await orders.insertOne({ _id: 'order-2', status: 'paid', v: 0, ...stageEventsForInsert([ready]) });
    await versioned.updateOne({ _id: 'order-2' }, stageEvents([paid]));
    assert.equal(await relay().relayOnce(), 2);
    await waitFor(
      'both deliveries',
      () => receivedIds().includes(ready.id) && receivedIds().includes(paid.id),
    );
    assert.ok(receivedIds().indexOf(paid.id) < receivedIds().indexOf(ready.id));
  });

  test('an event staged while the relay works on the document is never stranded', async () => {
    await orders.insertOne({ _id: 'order-3', status: 'new', v: 0 });
    const first = newEvent('order.created', { orderId: 'order-3' });
    const second = newEvent('order.paid', { orderId: 'order-3' });
    await versioned.updateOne(
      { _id: 'order-3' },
      { $set: { status: 'pending', ...stageEvents([first]).$set } },
    );

    // Between publishing `first` and clearing the document, a request stages `second`.
    let stagedMeanwhile = false;
    const racing: EventPublisher = {
      publish: async (event) => {
        await bus.publish(event);
        if (stagedMeanwhile) return;
        stagedMeanwhile = true;
        await versioned.updateOne(
          { _id: 'order-3' },
          { $set: { status: 'paid', ...stageEvents([second]).$set } },
        );
      },
    };
    const racingRelay = relay(racing);
    assert.equal(await racingRelay.relayOnce(), 1);
    const afterRace = await orders.findOne({ _id: 'order-3' });
    assert.equal(afterRace?.outboxPending, true, 'the flag survives: the map was not empty');
    assert.deepEqual(Object.keys(afterRace?.outbox ?? {}), [second.id]);

    assert.equal(await racingRelay.relayOnce(), 1);
    assert.equal(await racingRelay.relayOnce(), 0);
    await waitFor(
      'both deliveries',
      () => receivedIds().includes(first.id) && receivedIds().includes(second.id),
    );
    assert.equal(
      receivedIds().filter((id) => id === first.id || id === second.id).length,
      2,
      'each published once',
    );
    assert.equal((await orders.findOne({ _id: 'order-3' }))?.outboxPending, undefined);
  });

  test('stagings racing a running relay are all published, once: the version check keeps every write', async () => {
    await orders.insertOne({ _id: 'order-7', status: 'new', v: 0 });
    const events = Array.from({ length: 20 }, (_, n) => newEvent('order.paid', { orderId: 'order-7', n }));
    // No hand-offs here: the poll takes every staging at once (no grace), racing the writes.
    const running = new OutboxRelay({
      collection: orders,
      bus,
      logger: testLogger(),
      intervalMs: 5,
      handOffGraceMs: 0,
    });
    running.start();
    try {
      await Promise.all(
        events.map((event, n) =>
          versioned.updateOne(
            { _id: 'order-7' },
            { $set: { status: `step-${n}`, ...stageEvents([event]).$set } },
          ),
        ),
      );
      await waitFor('every event delivered', () => events.every((event) => receivedIds().includes(event.id)));
    } finally {
      await running.stop();
    }
    for (const event of events) assert.equal(receivedIds().filter((id) => id === event.id).length, 1);
    const settled = await waitFor('the flag cleared', async () => {
      const doc = await orders.findOne({ _id: 'order-7' });
      return doc && doc.outboxPending === undefined ? doc : undefined;
    });
    assert.deepEqual(settled.outbox, {});
    assert.match(settled.status, /^step-\d+$/);
    assert.ok(settled.v >= 20, `every staging bumped the version (v = ${settled.v})`);
  });

  test('a hand-off publishes what a write staged from the written document, and clears it in one write', async () => {
    // The poll must not run here: one that found the document between the write and the hand-off
    // would publish and clear it first, and the hand-off would then publish again (at least once,
    // absorbed by the consumers' Inbox) and clear with a second write.
    const running = new OutboxRelay({ collection: orders, bus, logger: testLogger(), intervalMs: 600_000 });
    running.start();
    try {
      await orders.insertOne({ _id: 'order-8', status: 'new', v: 0 });
      const paid = newEvent('order.paid', { orderId: 'order-8' });
      const written = await versioned.findOneAndUpdate(
        { _id: 'order-8', status: 'new' },
        { $set: { status: 'paid', ...stageEvents([paid]).$set } },
      );
      assert.ok(written);
      running.handOff(written);
      await waitFor('the delivery', () => receivedIds().includes(paid.id));
      const cleared = await waitFor('the document cleared', async () => {
        const doc = await orders.findOne({ _id: 'order-8' });
        return doc && doc.outboxPending === undefined ? doc : undefined;
      });
      assert.deepEqual(cleared.outbox, {});
      assert.equal(cleared.v, 2, 'the write, then one write that removed the event and the flag');
    } finally {
      await running.stop();
    }
  });

  test("the poll leaves a newly staged document to its write's hand-off for the grace, then takes it", async () => {
    let pollRound: (() => Promise<number>) | undefined;
    const polled = new OutboxRelay({
      collection: orders,
      bus,
      logger: testLogger(),
      handOffGraceMs: 50,
      // The test runs the poll's rounds itself.
      schedulePolls: (round) => {
        pollRound = round;
        return { wake: () => undefined };
      },
    });
    polled.start();
    try {
      await orders.insertOne({ _id: 'order-10', status: 'new', v: 0 });
      const paid = newEvent('order.paid', { orderId: 'order-10' });
      await versioned.updateOne(
        { _id: 'order-10' },
        { $set: { status: 'paid', ...stageEvents([paid]).$set } },
      );

      const sleepMs = await pollRound!();
      const left = await orders.findOne({ _id: 'order-10' });
      assert.deepEqual(
        Object.keys(left?.outbox ?? {}),
        [paid.id],
        'left staged: its hand-off may be on its way',
      );
      assert.ok(sleepMs <= 50, `the poll comes back when the grace ends (sleeps ${sleepMs} ms)`);

      await new Promise((resolve) => setTimeout(resolve, 60)); // the grace passes: no hand-off came
      await pollRound!();
      await waitFor('the delivery', () => receivedIds().includes(paid.id));
      assert.equal((await orders.findOne({ _id: 'order-10' }))?.outboxPending, undefined);
    } finally {
      await polled.stop();
    }
  });

  test('a failed publish leaves the event staged for the next pass, and the other documents still go out', async () => {
    const stuck = newEvent('order.paid', { orderId: 'order-4' });
    const fine = newEvent('order.paid', { orderId: 'order-5' });
    await orders.insertMany([
      { _id: 'order-4', status: 'paid', v: 0, ...stageEventsForInsert([stuck]) },
      { _id: 'order-5', status: 'paid', v: 0, ...stageEventsForInsert([fine]) },
    ]);
    let brokerDown = true;
    const flaky: EventPublisher = {
      publish: (event) =>
        brokerDown && event.id === stuck.id
          ? Promise.reject(new Error('message bus is not connected'))
          : bus.publish(event),
    };
    const flakyRelay = relay(flaky);
    assert.equal(await flakyRelay.relayOnce(), 1);
    assert.equal(await flakyRelay.backlog(), 1);
    brokerDown = false;
    assert.equal(await flakyRelay.relayOnce(), 1);
    assert.equal(await flakyRelay.backlog(), 0);
    await waitFor(
      'both deliveries',
      () => receivedIds().includes(stuck.id) && receivedIds().includes(fine.id),
    );
  });

  test('a running relay publishes what it finds staged on its own, and reports its backlog', async () => {
    const metrics = new Registry();
    // The poll's grace for a hand-off that never comes is short here; its own test is above.
    const running = relay(bus, metrics, 100);
    running.start();
    try {
      const event = newEvent('order.ready', { orderId: 'order-6' });
      await orders.insertOne({ _id: 'order-6', status: 'ready', v: 0, ...stageEventsForInsert([event]) });
      running.notify();
      await waitFor('the delivery', () => receivedIds().includes(event.id));
      // The consumer can get the event before the relay's clearing write lands.
      await waitFor('an empty backlog', async () =>
        /oms_outbox_backlog\{collection="orders"\} 0/.test(await metrics.metrics()),
      );
    } finally {
      await running.stop();
    }
    assert.doesNotMatch(await metrics.metrics(), /oms_outbox_backlog\{/, 'a stopped relay no longer reports');
  });

  describe("a hand-off's removal of the published events", () => {
    /** A running relay whose removals wait `removeAfterMs`, and the writes that can carry them. */
    function relayWithWaitingRemovals(removeAfterMs: number) {
      const running = new OutboxRelay({
        collection: orders,
        bus,
        logger: testLogger(),
        intervalMs: 600_000, // no poll between the write and its hand-off
        removeAfterMs,
      });
      running.start();
      return { running, documents: new OutboxDocuments(orders, running) };
    }

    /** Waits until the relay has written the document's removal itself, and returns the document. */
    function removalWritten(id: string) {
      return waitFor(`the removal of ${id}, written by the relay`, async () => {
        const doc = await orders.findOne({ _id: id });
        return doc?.outboxPending === undefined ? doc : undefined;
      });
    }

    /** Inserts an order with a staged event, hands it off, and waits until the event is delivered. */
    async function publishedOrder(running: OutboxRelay<Order>, id: string): Promise<DomainEvent> {
      const created = newEvent('order.created', { orderId: id });
      const doc = { _id: id, status: 'pending', v: 0, ...stageEventsForInsert([created]) };
      await orders.insertOne(doc);
      running.handOff(doc);
      await waitFor('the delivery', () => receivedIds().includes(created.id));
      return created;
    }

    test("goes with the document's next write, and no write of its own", async () => {
      const { running, documents } = relayWithWaitingRemovals(600_000);
      try {
        const created = await publishedOrder(running, 'order-20');
        const staged = await orders.findOne({ _id: 'order-20' });
        assert.deepEqual(Object.keys(staged?.outbox ?? {}), [created.id], 'published, not yet removed');
        assert.equal(await running.relayOnce(), 0, 'the poll does not publish it again meanwhile');

        const moved = await documents.findOneAndUpdate(
          { _id: 'order-20', status: 'pending' },
          { $set: { status: 'awaiting_payment' } },
        );
        assert.equal(moved?.status, 'awaiting_payment');
        assert.deepEqual(moved?.outbox, {});
        assert.equal(moved?.outboxPending, undefined);
        assert.equal(moved?.v, 1, 'the insert, then the one write that moved it and removed the event');
      } finally {
        await running.stop();
      }
      assert.equal((await orders.findOne({ _id: 'order-20' }))?.v, 1, 'stop had nothing left to write');
    });

    test('is written by the relay when no write comes', async () => {
      const { running } = relayWithWaitingRemovals(50);
      try {
        await publishedOrder(running, 'order-21');
        const cleared = await removalWritten('order-21');
        assert.deepEqual(cleared?.outbox, {});
        assert.equal(cleared?.v, 1);
      } finally {
        await running.stop();
      }
    });

    test("waits its own time: another document's removal falling due does not take it along", async () => {
      const { running, documents } = relayWithWaitingRemovals(1500);
      try {
        await publishedOrder(running, 'order-25');
        // The second removal starts waiting well after the first: its time is not up when the
        // first one's is.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await publishedOrder(running, 'order-26');
        await removalWritten('order-25');
        const moved = await documents.findOneAndUpdate(
          { _id: 'order-26', status: 'pending' },
          { $set: { status: 'awaiting_payment' } },
        );
        assert.equal(moved?.outboxPending, undefined);
        assert.equal(moved?.v, 1, 'the second removal went with this write, not with the first one');
      } finally {
        await running.stop();
      }
    });

    test('is given back by a write whose own filter does not hold, and written when the relay stops', async () => {
      const { running, documents } = relayWithWaitingRemovals(600_000);
      try {
        await publishedOrder(running, 'order-22');
        const missed = await documents.updateOne(
          { _id: 'order-22', status: 'paid' },
          { $set: { status: 'ready' } },
        );
        assert.equal(missed.matchedCount, 0);
        assert.equal((await orders.findOne({ _id: 'order-22' }))?.outboxPending, true);
      } finally {
        await running.stop();
      }
      const stopped = await orders.findOne({ _id: 'order-22' });
      assert.equal(stopped?.outboxPending, undefined);
      assert.deepEqual(stopped?.outbox, {});
      assert.equal(stopped?.status, 'pending');
    });

    test('leaves the flag to a write that stages events of its own, and those go out too', async () => {
      const { running, documents } = relayWithWaitingRemovals(600_000);
      try {
        const created = await publishedOrder(running, 'order-23');
        const paid = newEvent('order.paid', { orderId: 'order-23' });
        const moved = await documents.findOneAndUpdate(
          { _id: 'order-23' },
          { $set: { status: 'paid', ...stageEvents([paid]).$set } },
        );
        assert.deepEqual(
          Object.keys(moved?.outbox ?? {}),
          [paid.id],
          'the published event went with the write',
        );
        assert.equal(moved?.outboxPending, true);
        running.handOff(moved!);
        await waitFor('the delivery', () => receivedIds().includes(paid.id));
        assert.equal(
          receivedIds().filter((id) => id === created.id).length,
          1,
          'order.created went out once',
        );
      } finally {
        await running.stop();
      }
      const stopped = await orders.findOne({ _id: 'order-23' });
      assert.equal(stopped?.outboxPending, undefined);
      assert.deepEqual(stopped?.outbox, {});
    });

    test('is written by the relay when another process staged events since, and leaves those to the poll', async () => {
      const { running, documents } = relayWithWaitingRemovals(600_000);
      // Another process stages an event and has not published it yet.
      const ready = newEvent('order.ready', { orderId: 'order-24' });
      try {
        const created = await publishedOrder(running, 'order-24');
        await versioned.updateOne({ _id: 'order-24' }, stageEvents([ready]));
        const moved = await documents.findOneAndUpdate(
          { _id: 'order-24', status: 'pending' },
          { $set: { status: 'awaiting_payment' } },
        );
        assert.equal(moved?.status, 'awaiting_payment', 'the write itself is made');
        assert.deepEqual(Object.keys(moved?.outbox ?? {}).sort(), [created.id, ready.id].sort());
      } finally {
        await running.stop();
      }
      const stopped = await orders.findOne({ _id: 'order-24' });
      assert.deepEqual(
        Object.keys(stopped?.outbox ?? {}),
        [ready.id],
        'only the published event was removed',
      );
      assert.equal(stopped?.outboxPending, true, 'the flag stays for the event not yet published');
      assert.equal(await relay().relayOnce(), 1, "the other process's event is the poll's");
      await waitFor('its delivery', () => receivedIds().includes(ready.id));
    });
  });

  test('event ids that are not field-name safe are refused', () => {
    assert.throws(() => stageEvents([{ ...newEvent('order.paid', {}), id: 'a.b' }]), /cannot be staged/);
    assert.deepEqual(stageEvents([]), { $set: {} });
    assert.deepEqual(stageEventsForInsert([]), {});
  });
});

describe('the inbox against the real FerretDB', () => {
  let database: Database;
  let mongoUrl: string;

  before(async () => {
    ({ mongoUrl } = await brokerAndDatabase());
    database = await connectDatabase({
      url: mongoUrl,
      service: 'inbox',
      deployment: uniqueDeployment('inbox'),
    });
  });

  after(async () => {
    await database.db.dropDatabase();
    await database.close();
  });

  test('applies an event once per consumer, and again only if applying failed', async () => {
    const kitchen = await Inbox.open(database.db, 'kitchen.order.paid');
    const stock = await Inbox.open(database.db, 'stock.order.paid');
    let applied = 0;
    const apply = async () => {
      applied++;
    };
    assert.equal(await kitchen.once('event-1', apply), true);
    assert.equal(await kitchen.once('event-1', apply), false);
    assert.equal(await stock.once('event-1', apply), true, 'another consumer keeps its own record');
    assert.equal(applied, 2);

    await assert.rejects(
      kitchen.once('event-2', async () => {
        throw new Error('database hiccup');
      }),
      /database hiccup/,
    );
    assert.equal(await kitchen.once('event-2', apply), true, 'a failed apply is not recorded');
    assert.equal(applied, 3);

    assert.equal(await kitchen.forgetAppliedBefore(new Date(Date.now() + 60_000)), 2);
    assert.equal(await stock.once('event-1', apply), false, 'forgetting is per consumer');
  });

  test('a first delivery is applied without a lookup; a possible repeat is looked up', async () => {
    const client = new MongoClient(mongoUrl, { monitorCommands: true, retryWrites: false });
    const commands: string[] = [];
    client.on('commandStarted', (started) => commands.push(started.commandName));
    await client.connect();
    try {
      const db = client.db(database.db.databaseName);
      const inbox = await Inbox.open(db, 'order.payment.session_created');
      let applied = 0;
      const apply = async () => {
        applied++;
      };
      commands.length = 0;
      assert.equal(await inbox.once('event-3', apply, { firstDelivery: true }), true);
      assert.deepEqual(commands, ['insert'], 'applied and recorded, nothing looked up');
      commands.length = 0;
      assert.equal(await inbox.once('event-3', apply), false, 'a redelivery is skipped');
      assert.deepEqual(commands, ['find']);
      // A copy the outbox relay published twice looks new to the broker: it is applied again (the
      // handler's conditional write makes that harmless) and stays recorded once.
      assert.equal(await inbox.once('event-3', apply, { firstDelivery: true }), true);
      assert.equal(applied, 2);
      assert.equal(await db.collection('inbox').countDocuments({ eventId: 'event-3' }), 1);
    } finally {
      await client.close();
    }
  });
});
