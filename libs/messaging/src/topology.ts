import type { Channel } from 'amqplib';

/**
 * Names and declarations of everything the bus needs on the broker. Every name starts with the
 * deployment (OMS_ENV), so deployments sharing a broker never see each other's messages.
 */

/** One durable topic exchange per deployment carries every domain event, routed by event type. */
export function eventsExchangeName(deployment: string): string {
  return `oms.${deployment}.events`;
}

export interface RetryTier {
  queue: string;
  delayMs: number;
}

/** The queues of one (service, event type) subscription. */
export interface SubscriptionQueues {
  /** `<deployment>.<service>.<eventType>`: bound to the exchange, consumed by the service. */
  work: string;
  /** `<work>.retry.<n>`: messages wait here for the tier's delay, then expire back into `work`. */
  retries: RetryTier[];
  /** `<work>.dead`: the parking lot, emptied only by a replay. */
  dead: string;
}

export function subscriptionQueues(
  deployment: string,
  service: string,
  eventType: string,
  retryDelaysMs: number[],
): SubscriptionQueues {
  const work = `${deployment}.${service}.${eventType}`;
  return {
    work,
    retries: retryDelaysMs.map((delayMs, index) => ({ queue: `${work}.retry.${index + 1}`, delayMs })),
    dead: `${work}.dead`,
  };
}

export async function declareEventsExchange(channel: Channel, exchange: string): Promise<void> {
  await channel.assertExchange(exchange, 'topic', { durable: true });
}

/**
 * Idempotent, so it runs at every (re)connect: a queue deleted while we were away comes back.
 * Changing a tier's delay later makes the broker refuse the re-declaration (PRECONDITION_FAILED):
 * delete that retry queue first.
 */
export async function declareSubscriptionQueues(
  channel: Channel,
  exchange: string,
  eventType: string,
  queues: SubscriptionQueues,
): Promise<void> {
  await channel.assertQueue(queues.work, { durable: true });
  await channel.bindQueue(queues.work, exchange, eventType);
  for (const tier of queues.retries) {
    // Expired messages go through the default exchange straight to this subscription's work queue,
    // so a retry reaches only the consumer that failed, never the other subscribers of the event.
    // One queue per delay keeps expiry in FIFO order (a queue only expires messages at its head).
    await channel.assertQueue(tier.queue, {
      durable: true,
      arguments: {
        'x-message-ttl': tier.delayMs,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queues.work,
      },
    });
  }
  await channel.assertQueue(queues.dead, { durable: true });
}
