import type { Channel, ChannelModel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import type { Registry } from 'prom-client';
import type { Logger } from '@oms/logging';
import { ConfirmPublisher } from './confirm-publisher';
import { DELIVERY_SCOPE } from './delivery-scope';
import { openBrokerConnection } from './connection';
import {
  handleDelivery,
  type Delivery,
  type DeliveryContext,
  type EventHandler,
  type Subscription,
} from './consumer';
import { inspectDeadLetters, moveDeadLetters, type DeadLetterQueueReport } from './dead-letters';
import { assertEventType, encodeEvent, PermanentError, type DomainEvent } from './event';
import { assertWatchPatterns, startWatch, type EventWatch, type WatchHandler } from './event-watch';
import { MessagingMetrics } from './metrics';
import {
  declareEventsExchange,
  declareSubscriptionQueues,
  eventsExchangeName,
  subscriptionQueues,
} from './topology';
import { recordFailure, startPublishSpan } from './tracing';

export interface MessageBusOptions {
  /** AMQP_URL */
  url: string;
  /** OMS_ENV: exchange `oms.<deployment>.events`, queues `<deployment>.<service>.<eventType>`. */
  deployment: string;
  /** The consuming service's name. */
  service: string;
  logger: Logger;
  /** Unacked messages per queue this process holds at once. Default 16. */
  prefetch?: number;
  /** Retry tiers: a failed message waits this long before its next attempt. Default 1 s, 10 s, 60 s. */
  retryDelaysMs?: number[];
  /**
   * Recognises a failure that means a dependency is away (database unreachable, a service
   * unavailable): once the tiers are spent, such a message keeps retrying at the last tier's
   * delay instead of going to the dead letters, for up to `dependencyAwayBudgetMs` (default 24 h)
   * after its first failure. Without it, every failure is dead-lettered after the last tier.
   */
  isDependencyAway?: (error: unknown) => boolean;
  dependencyAwayBudgetMs?: number;
  /** When given, messaging counters and histograms are registered here. */
  metrics?: Registry;
  /** How long close() waits for handlers in flight before closing anyway (they are redelivered). Default 10 s. */
  shutdownTimeoutMs?: number;
  /**
   * The inbox of one consumer (`<service>.<eventType>`): what on() applies each event through, so
   * that a redelivered event is applied once. Without it, on() applies every delivery.
   */
  inbox?: (consumer: string) => Promise<EventInbox>;
}

/** What on() needs of an inbox (an Inbox is one). */
export interface EventInbox {
  once(eventId: string, apply: () => Promise<void>, options?: { firstDelivery?: boolean }): Promise<boolean>;
}

export interface OnOptions {
  /** Errors that retrying cannot fix (a domain refusal): they go to the dead letters at once. */
  isPermanent?: (error: unknown) => boolean;
  /**
   * The handler's own write makes a repeat change nothing: its filter carries the state it moves
   * from, or it inserts under a unique key. Such a consumer goes without an inbox, whose record
   * would cost a database write for every event to spare work only on the rare redelivery.
   */
  idempotentWrite?: boolean;
}

/**
 * The channels of one live connection. Replaced wholesale after every reconnect: only `open`
 * changes, once, when the connection or a channel closes.
 */
interface Session {
  readonly connection: ChannelModel;
  readonly consumer: Channel;
  readonly publisher: ConfirmPublisher;
  /** Event type → consumer tag ('' while the consumer is being set up). */
  readonly consumerTags: Map<string, string>;
  /** Watch → consumer tag of its exclusive queue on this connection ('' while being set up). */
  readonly watching: Map<EventWatch, string>;
  open: boolean;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 10_000, 60_000];
const DEFAULT_DEPENDENCY_AWAY_BUDGET_MS = 24 * 60 * 60 * 1000;

/**
 * Domain events over RabbitMQ, at least once: confirmed publishes, manual acks, tiered retry queues,
 * a dead-letter queue with replay, W3C trace context in the headers, and a connection that heals
 * itself — a broker restart costs a reconnect, never the process.
 */
export class MessageBus {
  private readonly exchange: string;
  private readonly logger: Logger;
  private readonly metrics: MessagingMetrics;
  private readonly deliveryContext: DeliveryContext;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly watches = new Set<EventWatch>();
  private readonly inFlight = new Set<Promise<void>>();
  private connection?: RecoveringChannelModel;
  private session?: Session;
  private starting?: Promise<void>;
  private closing?: Promise<void>;
  /** Listing and replaying dead letters both take messages off a queue for a while: one at a time. */
  private adminOperations: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MessageBusOptions) {
    this.exchange = eventsExchangeName(options.deployment);
    this.logger = options.logger;
    this.metrics = new MessagingMetrics(options.metrics);
    const { isDependencyAway } = options;
    this.deliveryContext = {
      service: options.service,
      logger: options.logger,
      metrics: this.metrics,
      dependencyAway: isDependencyAway && {
        isAway: isDependencyAway,
        budgetMs: options.dependencyAwayBudgetMs ?? DEFAULT_DEPENDENCY_AWAY_BUDGET_MS,
      },
    };
  }

  /** True while a connection with its channels is up (for readiness checks). */
  get connected(): boolean {
    return this.session?.open === true;
  }

  /**
   * Connects — retrying with backoff until it succeeds or close() is called — declares the topology
   * and starts the consumers. Resolves once first connected; later losses are healed in the background.
   */
  start(): Promise<void> {
    this.starting ??= this.connect();
    return this.starting;
  }

  /**
   * Publishes persistently on a confirm channel; resolves once the broker confirmed. Rejects at once
   * while disconnected, and when the broker nacks or the connection drops first: the outbox retries.
   */
  async publish(event: DomainEvent): Promise<void> {
    assertEventType(event.type);
    const session = this.session;
    if (!session?.open) throw new Error('message bus is not connected');
    const { span, headers } = startPublishSpan(this.exchange, event);
    try {
      await session.publisher.publish(this.exchange, event.type, encodeEvent(event), {
        persistent: true,
        contentType: 'application/json',
        messageId: event.id,
        type: event.type,
        timestamp: Math.floor(Date.now() / 1000),
        headers,
      });
      this.metrics.publishedMessage(this.exchange);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Consumes `eventType` from this service's own queue. Before or after start(); once per event type.
   * The handler's result is ignored: resolving acks, throwing retries (PermanentError: dead letters).
   */
  subscribe<T>(
    eventType: string,
    handler: (event: DomainEvent<T>, delivery: Delivery) => Promise<unknown>,
  ): void {
    assertEventType(eventType);
    if (this.subscriptions.has(eventType))
      throw new Error(`${this.options.service} already subscribes to ${eventType}`);
    const subscription: Subscription = {
      eventType,
      queues: subscriptionQueues(
        this.options.deployment,
        this.options.service,
        eventType,
        this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      ),
      handler: handler as EventHandler,
    };
    this.subscriptions.set(eventType, subscription);
    const session = this.session;
    if (session?.open) void this.consume(session, subscription);
  }

  /**
   * The one way a service consumes an event: a payload that `isPayload` refuses goes to the dead
   * letters at once, a redelivered, retried or replayed event that `handler` already applied is
   * skipped (the inbox `<service>.<eventType>`, unless `idempotentWrite`; `handler` must still be
   * idempotent, see inbox.ts),
   * and an error `isPermanent` recognises is dead-lettered rather than retried. Anything else
   * thrown is retried through the tiers.
   */
  on<T>(
    eventType: string,
    isPayload: (data: unknown) => data is T,
    handler: (data: T, event: DomainEvent<T>) => Promise<unknown>,
    { isPermanent, idempotentWrite = false }: OnOptions = {},
  ): void {
    const consumer = `${this.options.service}.${eventType}`;
    const openInbox = idempotentWrite ? undefined : this.options.inbox;
    let inbox: Promise<EventInbox> | undefined;
    // Opened on first use; one that failed to open (the database was away) is tried again.
    const inboxNow = (open: (consumer: string) => Promise<EventInbox>) =>
      (inbox ??= open(consumer).catch((error: unknown) => {
        inbox = undefined;
        throw error;
      }));
    this.subscribe<unknown>(eventType, async (event, { firstDelivery }) => {
      const { data } = event;
      if (!isPayload(data)) throw new PermanentError(`${eventType} without a valid payload`);
      const apply = async () => {
        try {
          await handler(data, event as DomainEvent<T>);
        } catch (error) {
          if (isPermanent?.(error))
            throw new PermanentError(error instanceof Error ? error.message : String(error));
          throw error;
        }
      };
      if (openInbox) await (await inboxNow(openInbox)).once(event.id, apply, { firstDelivery });
      else await apply();
    });
  }

  /**
   * Sees a copy of every event whose type matches `patterns` (topic patterns: `order.*`, `#`),
   * from now on, in every instance that watches: a broadcast for observers such as a live board,
   * through a queue of this connection's own (see event-watch.ts). Before or after start().
   * Events published while the connection is down are not seen. Returns a stop function.
   */
  watch(patterns: readonly string[], handler: WatchHandler): () => Promise<void> {
    assertWatchPatterns(patterns);
    const watch: EventWatch = { patterns: [...patterns], handler };
    this.watches.add(watch);
    const session = this.session;
    if (session?.open) void this.startWatching(session, watch);
    return async () => {
      this.watches.delete(watch);
      const current = this.session;
      const consumerTag = current?.watching.get(watch);
      current?.watching.delete(watch);
      if (current?.open && consumerTag) await current.consumer.cancel(consumerTag).catch(() => undefined);
    };
  }

  /** Per dead-letter queue of this service: how many messages, and the newest `limit` of them. */
  listDeadLetters(limit: number): Promise<DeadLetterQueueReport[]> {
    return this.administer(async (session) => {
      const reports: DeadLetterQueueReport[] = [];
      for (const { queues } of this.subscriptions.values())
        reports.push(await inspectDeadLetters(session.connection, queues.dead, limit));
      return reports;
    });
  }

  /**
   * Moves every message of a dead-letter queue of this service (its name or its work queue's name)
   * back to the work queue with its attempts reset. Returns how many moved.
   */
  replayDeadLetters(queue: string): Promise<number> {
    const subscription = [...this.subscriptions.values()].find(
      ({ queues }) => queue === queues.dead || queue === queues.work,
    );
    if (!subscription)
      return Promise.reject(
        new Error(`unknown dead-letter queue ${queue}: not one of ${this.options.service}'s queues`),
      );
    const { dead, work } = subscription.queues;
    return this.administer(async (session) => {
      const moved = await moveDeadLetters(session.connection, session.publisher, dead, work);
      this.logger.info({ queue: dead, moved }, 'replayed dead letters');
      return moved;
    });
  }

  /** Stops consuming, waits (bounded) for handlers in flight, then closes. Unacked messages go back to their queues. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async connect(): Promise<void> {
    if (this.closing) throw new Error('message bus is closed');
    const connection = await openBrokerConnection({
      url: this.options.url,
      name: `${this.options.deployment}.${this.options.service}`,
      logger: this.logger,
      onConnect: (fresh) => this.openSession(fresh),
    });
    this.connection = connection;
    if (this.closing) await connection.close();
    await connection.waitForConnect();
  }

  /** Runs on every (re)connect: channels, exchange, then every subscription's queues and consumer. */
  private async openSession(connection: ChannelModel): Promise<void> {
    const consumer = await connection.createChannel();
    const confirmChannel = await connection.createConfirmChannel();
    const session: Session = {
      connection,
      consumer,
      publisher: new ConfirmPublisher(confirmChannel),
      consumerTags: new Map(),
      watching: new Map(),
      open: true,
    };
    for (const channel of [consumer, confirmChannel]) {
      channel.on('error', (error: Error) => this.logger.warn({ err: error }, 'RabbitMQ channel error'));
      channel.on('close', () => this.endSession(session, 'channel closed'));
    }
    await declareEventsExchange(confirmChannel, this.exchange);
    // Per consumer (not global): each queue gets its own window, so one slow queue cannot starve another.
    await consumer.prefetch(this.options.prefetch ?? 16, false);
    this.session = session;
    // A subscribe() arriving during this loop is picked up by it or consumes on its own; never both.
    for (const subscription of this.subscriptions.values()) {
      await this.consume(session, subscription, { throwOnFailure: true });
    }
    for (const watch of this.watches) await this.startWatching(session, watch, { throwOnFailure: true });
    this.logger.info(
      { exchange: this.exchange, queues: [...this.subscriptions.values()].map((s) => s.queues.work) },
      'message bus ready',
    );
  }

  private async consume(
    session: Session,
    subscription: Subscription,
    { throwOnFailure = false } = {},
  ): Promise<void> {
    if (!session.open || session.consumerTags.has(subscription.eventType)) return;
    session.consumerTags.set(subscription.eventType, '');
    try {
      await declareSubscriptionQueues(
        session.consumer,
        this.exchange,
        subscription.eventType,
        subscription.queues,
      );
      const { consumerTag } = await session.consumer.consume(
        subscription.queues.work,
        (message) => this.onMessage(session, subscription, message),
        { noAck: false },
      );
      session.consumerTags.set(subscription.eventType, consumerTag);
    } catch (error) {
      if (throwOnFailure) throw error;
      this.logger.error(
        { err: error, queue: subscription.queues.work },
        'could not start consuming; reconnecting',
      );
      this.endSession(session, 'consumer setup failed');
    }
  }

  private async startWatching(
    session: Session,
    watch: EventWatch,
    { throwOnFailure = false } = {},
  ): Promise<void> {
    if (!session.open || session.watching.has(watch)) return;
    session.watching.set(watch, '');
    try {
      const queuePrefix = `${this.options.deployment}.${this.options.service}`;
      const tag = await startWatch(session.consumer, this.exchange, queuePrefix, watch, this.logger);
      // Stopped while its queue was being declared: nothing should consume for it any more.
      if (!this.watches.has(watch)) await session.consumer.cancel(tag);
      else session.watching.set(watch, tag);
    } catch (error) {
      if (throwOnFailure) throw error;
      this.logger.error({ err: error, patterns: watch.patterns }, 'could not start watching; reconnecting');
      this.endSession(session, 'watch setup failed');
    }
  }

  private onMessage(session: Session, subscription: Subscription, message: ConsumeMessage | null): void {
    DELIVERY_SCOPE.runInAsyncScope(() => this.deliver(session, subscription, message));
  }

  private deliver(session: Session, subscription: Subscription, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer: its queue was deleted. A new session re-declares it.
      if (!this.closing)
        this.endSession(session, `consumer of ${subscription.queues.work} cancelled by the broker`);
      return;
    }
    const handling = handleDelivery(
      this.deliveryContext,
      subscription,
      { consumer: session.consumer, publisher: session.publisher },
      message,
    ).catch((error: unknown) => {
      this.logger.error(
        { err: error, queue: subscription.queues.work },
        'could not move a failed message on; reconnecting so the broker redelivers it',
      );
      this.endSession(session, 'retry or dead-letter copy failed');
    });
    this.inFlight.add(handling);
    void handling.finally(() => this.inFlight.delete(handling));
  }

  /**
   * A session ends when any of its channels closes. Outside close(), the whole connection is then
   * recycled: recovery reconnects and rebuilds everything, the simplest state to reason about.
   */
  private endSession(session: Session, reason: string): void {
    if (!session.open) return;
    session.open = false;
    if (this.session === session) this.session = undefined;
    if (this.closing) return;
    this.logger.warn({ reason }, 'RabbitMQ session ended; reconnecting');
    void Promise.resolve()
      .then(() => session.connection.close())
      .catch(() => undefined); // already closed: recovery is on it
  }

  private administer<T>(operation: (session: Session) => Promise<T>): Promise<T> {
    const run = this.adminOperations.then(() => {
      const session = this.session;
      if (!session?.open) throw new Error('message bus is not connected');
      return operation(session);
    });
    this.adminOperations = run.catch(() => undefined);
    return run;
  }

  private async shutDown(): Promise<void> {
    const session = this.session;
    if (session?.open) {
      for (const consumerTag of [...session.consumerTags.values(), ...session.watching.values()]) {
        if (consumerTag) await session.consumer.cancel(consumerTag).catch(() => undefined);
      }
    }
    const timeoutMs = this.options.shutdownTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const stuck = await Promise.race([Promise.allSettled([...this.inFlight]).then(() => false), timedOut]);
    clearTimeout(timer);
    if (stuck)
      this.logger.warn(
        { inFlight: this.inFlight.size, timeoutMs },
        'closing with handlers still running; their messages will be redelivered',
      );
    await this.connection?.close();
    this.session = undefined;
  }
}
