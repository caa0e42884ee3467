import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import type { Logger } from '@oms/logging';
import { decodeEvent, type DomainEvent } from './event';
import { DELIVERY_SCOPE } from './delivery-scope';

/**
 * A watcher sees every event whose type matches one of its patterns, as a copy: it is an observer
 * (a dashboard, a live feed), never a step of the flow. Unlike a subscription it shares no work
 * queue with other instances, keeps nothing while away, retries nothing and dead-letters nothing.
 */
export type WatchHandler = (event: DomainEvent) => void;

export interface EventWatch {
  /** Topic patterns over event types: `order.*`, `kitchen.ticket_ready`, `#` (every event). */
  patterns: readonly string[];
  handler: WatchHandler;
}

/** Dot-separated words, each a name, `*` (exactly one word) or `#` (any number of words). */
const WATCH_PATTERN = /^(\*|#|[A-Za-z0-9_-]+)(\.(\*|#|[A-Za-z0-9_-]+))*$/;

export function assertWatchPatterns(patterns: readonly string[]): void {
  if (patterns.length === 0) throw new Error('a watch needs at least one event type pattern');
  for (const pattern of patterns)
    if (!WATCH_PATTERN.test(pattern))
      throw new Error(`invalid watch pattern ${JSON.stringify(pattern)}: dot-separated words, * or #`);
}

/**
 * What the broker keeps for a watcher that falls behind: the oldest copies are dropped past it,
 * so a stalled process can never grow the broker's memory.
 */
export const WATCH_QUEUE_MAX_LENGTH = 10_000;

/**
 * Declares the watcher's own queue and starts consuming it. The queue is exclusive to this
 * connection and auto-deleted, so it disappears with the connection (a crash included): each
 * (re)connect declares a fresh one. Returns the consumer tag.
 */
export async function startWatch(
  channel: Channel,
  exchange: string,
  queuePrefix: string,
  watch: EventWatch,
  logger: Logger,
): Promise<string> {
  const { queue } = await channel.assertQueue(`${queuePrefix}.watch.${randomUUID().slice(0, 8)}`, {
    exclusive: true,
    autoDelete: true,
    durable: false,
    arguments: { 'x-max-length': WATCH_QUEUE_MAX_LENGTH, 'x-overflow': 'drop-head' },
  });
  for (const pattern of watch.patterns) await channel.bindQueue(queue, exchange, pattern);
  // No acks: a copy the process could not show is worth nothing later.
  const { consumerTag } = await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      try {
        DELIVERY_SCOPE.runInAsyncScope(() => watch.handler(decodeEvent(message.content)));
      } catch (error) {
        logger.warn({ err: error, queue, routingKey: message.fields.routingKey }, 'event watcher failed');
      }
    },
    { noAck: true },
  );
  return consumerTag;
}
