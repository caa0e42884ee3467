import type { Collection, Db, Document } from 'mongodb';
import type { BaseServiceConfigType } from '@oms/config';
import type { Logger } from '@oms/logging';
import { Inbox, MessageBus, OutboxRelay, type OutboxHandOff } from '@oms/messaging';
import { isDatabaseUnavailable } from '@oms/persistence';
import { meansDependencyAway } from '@oms/resilience';
import type { BackgroundLoops } from './background-loops';
import { InboxRetention } from './inbox-retention';
import type { ServiceMetrics } from './metrics';

/** How often each inbox forgets records older than INBOX_RETENTION_HOURS. */
const INBOX_CLEANUP_INTERVAL_MS = 3_600_000;

export interface ServiceMessaging {
  /**
   * The service's message bus, connected on first use and closed on shutdown. `bus.on(type,
   * isPayload, handler)` consumes an event; a redelivered, retried or replayed one already applied
   * is skipped (this service's `inbox`).
   */
  bus(): Promise<MessageBus>;
  /**
   * Publishes the events staged in this collection's documents (see stageEvents): those a store
   * hands off after its write at once, the rest (after a crash or a broker outage) by polling.
   */
  relayOutbox<T extends Document>(collection: Collection<T>): OutboxHandOff;
}

/**
 * The service's side of RabbitMQ: one bus, its inboxes with their retention, and one outbox
 * relay per collection that stages events. Nothing connects until the service asks for it.
 */
export class ServiceEvents implements ServiceMessaging {
  private connected?: Promise<MessageBus>;
  private readonly relays: OutboxRelay[] = [];
  private readonly inboxes: InboxRetention<Inbox>;

  constructor(
    private readonly service: string,
    private readonly config: BaseServiceConfigType,
    private readonly deps: {
      logger: Logger;
      metrics: ServiceMetrics;
      database: () => Promise<Db>;
      loops: BackgroundLoops;
    },
  ) {
    this.inboxes = new InboxRetention((consumer) => deps.database().then((db) => Inbox.open(db, consumer)), {
      retentionMs: config.INBOX_RETENTION_HOURS * 3_600_000,
      logger: deps.logger,
      scheduleCleanup: (round) => deps.loops.every('inbox cleanup', INBOX_CLEANUP_INTERVAL_MS, round),
    });
  }

  bus = (): Promise<MessageBus> => (this.connected ??= this.connect());

  relayOutbox = <T extends Document>(collection: Collection<T>): OutboxHandOff => {
    const { logger, metrics, loops } = this.deps;
    const relay = new OutboxRelay({
      collection: collection as unknown as Collection<Document>,
      bus: { publish: async (event) => (await this.bus()).publish(event) },
      logger,
      metrics: metrics.registry,
      schedulePolls: (round, timing) =>
        loops.every(`outbox relay ${collection.collectionName}`, timing, round),
    });
    this.relays.push(relay);
    void this.bus().then(
      () => relay.start(),
      (error: unknown) => logger.error({ err: error }, 'no message bus: staged events wait in the outbox'),
    );
    return relay;
  };

  /** The bus if the service asked for one (its dead letters are then served over gRPC). */
  startedBus(): Promise<MessageBus> | undefined {
    return this.connected;
  }

  /** Stops relaying and consuming; the loops were stopped before, so no poll starts meanwhile. */
  async stop(): Promise<void> {
    await Promise.all(this.relays.map((relay) => relay.stop()));
    if (this.connected) await (await this.connected).close();
  }

  private async connect(): Promise<MessageBus> {
    const bus = new MessageBus({
      url: this.config.AMQP_URL,
      deployment: this.config.OMS_ENV,
      service: this.service,
      logger: this.deps.logger,
      metrics: this.deps.metrics.registry,
      inbox: (consumer) => this.inboxes.inbox(consumer),
      // An event that failed because our database or another service was away is not bad: it
      // waits for them rather than for someone to replay it from the dead letters.
      isDependencyAway: (error) => isDatabaseUnavailable(error) || meansDependencyAway(error),
    });
    await bus.start();
    return bus;
  }
}
