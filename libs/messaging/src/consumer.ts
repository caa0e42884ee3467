import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '@oms/logging';
import type { ConfirmPublisher } from './confirm-publisher';
import { decodeEvent, PermanentError, type DomainEvent } from './event';
import { copyOptions, failedAttempts, failureHeaders, firstFailureAt, wasReplayed } from './message-copy';
import type { ConsumeOutcome, MessagingMetrics } from './metrics';
import type { RetryTier, SubscriptionQueues } from './topology';
import { annotateWithEvent, errorMessage, recordFailure, withConsumeSpan } from './tracing';

export type EventHandler<T = unknown> = (event: DomainEvent<T>, delivery: Delivery) => Promise<unknown>;

export interface Delivery {
  /** 1 for the first try; a retry through the tiers counts up. */
  attempt: number;
  /**
   * The event reaches this consumer for the first time as far as the broker can tell: not
   * redelivered (after a consumer died or its channel closed unacknowledged), not a retry, not a
   * replay from the dead letters.
   */
  firstDelivery: boolean;
}

export interface Subscription {
  eventType: string;
  queues: SubscriptionQueues;
  handler: EventHandler;
}

/** The channels of the connection the message arrived on: acks must go back on the same channel. */
export interface DeliveryChannels {
  consumer: Channel;
  publisher: ConfirmPublisher;
}

export interface DeliveryContext {
  service: string;
  logger: Logger;
  metrics: MessagingMetrics;
  /**
   * Failures that say a dependency is away (the database, another service) rather than that the
   * message is bad. Outages in a row can outlast the tiers, and dead-lettering a good event for
   * that would leave its order stuck until someone replays it; so such a failure stays in the last
   * tier until `budgetMs` have passed since the message first failed.
   */
  dependencyAway?: { isAway(error: unknown): boolean; budgetMs: number };
}

/**
 * Handles one delivery to the end: ack on success; on failure a copy goes to the next retry tier
 * (or the dead letters after the last tier, for a PermanentError, or for a body that is no event;
 * a dependency that is away keeps the message in the last tier, see `dependencyAway`),
 * and the original is acked only once the broker confirmed the copy. Nothing here waits out a
 * delay: the retry queue's TTL does, so the consumer keeps serving other messages.
 *
 * Rejects only when the copy could not be placed; the message then stays unacked and the caller
 * recycles the connection so the broker redelivers it.
 */
export async function handleDelivery(
  context: DeliveryContext,
  subscription: Subscription,
  channels: DeliveryChannels,
  message: ConsumeMessage,
): Promise<void> {
  const startedAt = performance.now();
  const { queues } = subscription;
  const headers = message.properties.headers ?? {};
  const previousFailures = failedAttempts(headers);
  const attempt = previousFailures + 1;
  const spanDetails = {
    queue: queues.work,
    service: context.service,
    attempt,
    headers,
    messageId: typeof message.properties.messageId === 'string' ? message.properties.messageId : undefined,
    routingKey: message.fields.routingKey,
    deliveryTag: message.fields.deliveryTag,
  };
  const outcome = await withConsumeSpan(spanDetails, async (span): Promise<ConsumeOutcome> => {
    let event: DomainEvent;
    try {
      event = decodeEvent(message.content);
    } catch (error) {
      recordFailure(span, error);
      context.logger.error(
        { err: error, queue: queues.work, messageId: spanDetails.messageId },
        'malformed message moved to the dead letters',
      );
      await moveTo(channels, message, queues.dead, attempt, error, firstFailureAt(headers, Date.now()));
      return 'dead';
    }
    annotateWithEvent(span, event);
    try {
      const firstDelivery = !message.fields.redelivered && previousFailures === 0 && !wasReplayed(headers);
      await subscription.handler(event, { attempt, firstDelivery });
    } catch (error) {
      recordFailure(span, error);
      const now = Date.now();
      const firstFailedAt = firstFailureAt(headers, now);
      const retryTier = nextRetryTier(context, queues, previousFailures, error, now - firstFailedAt);
      const destination = retryTier?.queue ?? queues.dead;
      const details = {
        err: error,
        queue: queues.work,
        eventId: event.id,
        type: event.type,
        attempt,
        destination,
      };
      if (retryTier)
        context.logger.warn(
          { ...details, retryInMs: retryTier.delayMs },
          'event handling failed; will retry',
        );
      else context.logger.error(details, 'event handling failed; moved to the dead letters');
      await moveTo(channels, message, destination, attempt, error, firstFailedAt);
      return retryTier ? 'retry' : 'dead';
    }
    ackIfStillOpen(channels.consumer, message);
    return 'ack';
  });
  context.metrics.consumedMessage(queues.work, outcome, (performance.now() - startedAt) / 1000);
}

/** Where a failed message waits before its next attempt; undefined: the dead letters. */
function nextRetryTier(
  context: DeliveryContext,
  queues: SubscriptionQueues,
  previousFailures: number,
  error: unknown,
  failingForMs: number,
): RetryTier | undefined {
  if (error instanceof PermanentError) return undefined;
  const tier = queues.retries[previousFailures];
  if (tier) return tier;
  const away = context.dependencyAway;
  if (away?.isAway(error) && failingForMs < away.budgetMs) return queues.retries.at(-1);
  return undefined;
}

async function moveTo(
  channels: DeliveryChannels,
  message: ConsumeMessage,
  queue: string,
  attempts: number,
  error: unknown,
  firstFailedAt: number,
): Promise<void> {
  // Mandatory: if that queue were gone, the broker would drop the copy and we would lose the message.
  await channels.publisher.publish(
    '',
    queue,
    message.content,
    copyOptions(message, failureHeaders(attempts, errorMessage(error), firstFailedAt)),
    {
      mandatory: true,
    },
  );
  ackIfStillOpen(channels.consumer, message);
}

function ackIfStillOpen(channel: Channel, message: ConsumeMessage): void {
  try {
    channel.ack(message);
  } catch {
    // The channel died after the work was done: the broker redelivers the message, and the
    // consumer's inbox recognises it as already applied.
  }
}
